import { useRef, useState } from 'react';
import type { PresenceEntry } from '@tidings/client';
import { PresenceList } from './presence-list.js';
import { type Channel, useSharedSubscription } from './use-shared-subscription.js';

export interface UsePresenceOptions {
  /** presence() failed (e.g. presence is off for the namespace: error code 108). */
  onError?: (err: Error) => void;
}

/**
 * Who is on `channel`: one entry per connection ({client, user, info}), kept
 * live from join/leave (the namespace needs `presence` and `joinLeave`). The
 * last known list stays while reconnecting and is refreshed on resubscribe.
 */
export function usePresence(channel: Channel, options: UsePresenceOptions = {}): PresenceEntry[] {
  const onError = useRef(options.onError);
  onError.current = options.onError;
  const [members, setMembers] = useState<{ channel: Channel; list: PresenceEntry[] } | null>(null);
  useSharedSubscription(channel, (sub) => {
    const list = new PresenceList(
      sub,
      (next) => setMembers({ channel, list: next }),
      (err) => onError.current?.(err),
    );
    return () => list.dispose();
  });
  return members && members.channel === channel ? members.list : EMPTY;
}

const EMPTY: PresenceEntry[] = [];
