import { useCallback, useRef, useState } from 'react';
import type { ClientInfo } from '@tidings/client';
import { TypingTracker, type TypingOptions } from './typing-tracker.js';
import { type Channel, useSharedSubscription } from './use-shared-subscription.js';

export interface UseTypingResult {
  /** Users typing now (user ids, each once, in the order they started), never yourself. */
  typing: string[];
  /** The typing connections with their info ({client, user, info}), for display names. */
  typists: ClientInfo[];
  /** Call with true on every keystroke (it is throttled) and false when the message is sent or the field is left. */
  setTyping: (typing: boolean) => void;
}

/** A typing indicator on `channel`, on ephemeral signals (the namespace needs `signals: true`). */
export function useTyping(channel: Channel, options: TypingOptions = {}): UseTypingResult {
  const [typists, setTypists] = useState<{ channel: Channel; list: ClientInfo[]; users: string[] } | null>(null);
  const tracker = useRef<TypingTracker | null>(null);
  const opts = useRef(options);
  opts.current = options;
  useSharedSubscription(channel, (sub) => {
    const t = new TypingTracker(sub, opts.current, (list, users) => setTypists({ channel, list, users }));
    tracker.current = t;
    return () => {
      t.dispose();
      if (tracker.current === t) tracker.current = null;
    };
  });
  const setTyping = useCallback((typing: boolean) => tracker.current?.setTyping(typing), []);
  // Both arrays are computed once per change by the tracker, so they keep their identity between renders.
  const current = typists && typists.channel === channel ? typists : null;
  return { typing: current ? current.users : NO_USERS, typists: current ? current.list : NO_TYPISTS, setTyping };
}

const NO_TYPISTS: ClientInfo[] = [];
const NO_USERS: string[] = [];
