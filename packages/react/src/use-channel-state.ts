import { useCallback, useRef, useState } from 'react';
import type { Publication } from '@tidings/client';
import { type ChannelSnapshot, ChannelFold, type Loaded } from './channel-state.js';
import { type Channel, useSharedSubscription } from './use-shared-subscription.js';

export interface UseChannelStateOptions<S> {
  /** The app's own fetch of the current state; see channel-state.ts (and docs/react.md) for when it runs. */
  load: () => Promise<Loaded<S>> | Loaded<S>;
  /** The state before the first load() resolves. */
  initial: S;
}

export interface UseChannelStateResult<S> extends ChannelSnapshot<S> {
  /** Run load() again now. */
  reload: () => void;
}

/**
 * `state` = load()'s snapshot with every later publication folded in by
 * `reducer`; reloaded when recovery fails. `channel` null: no subscription,
 * `state` stays `initial`.
 */
export function useChannelState<S, T = unknown>(
  channel: Channel,
  reducer: (state: S, pub: Publication<T>) => S,
  options: UseChannelStateOptions<S>,
): UseChannelStateResult<S> {
  const latest = useRef({ reducer, options });
  latest.current = { reducer, options };
  const [snap, setSnap] = useState<{ channel: Channel; snap: ChannelSnapshot<S> } | null>(null);
  const fold = useRef<ChannelFold<S, T> | null>(null);
  useSharedSubscription<T>(channel, (sub) => {
    const current = new ChannelFold<S, T>(sub, latest.current.options.initial, {
      reducer: () => latest.current.reducer,
      load: () => latest.current.options.load,
      onChange: (s) => setSnap({ channel, snap: s }),
    });
    fold.current = current;
    setSnap({ channel, snap: current.snapshot });
    return () => {
      current.dispose();
      if (fold.current === current) fold.current = null;
    };
  });
  const reload = useCallback(() => fold.current?.reload(), []);
  const shown =
    snap && snap.channel === channel
      ? snap.snap
      : { state: options.initial, status: channel ? ('loading' as const) : ('ready' as const), error: null, loads: 0 };
  return { ...shown, reload };
}
