import { useCallback, useRef, useSyncExternalStore } from 'react';
import type {
  CodeContext,
  PresenceEvent,
  Publication,
  SubscribedContext,
  Subscription,
  SubscriptionState,
} from '@tidings/client';
import { type Channel, useSharedSubscription } from './use-shared-subscription.js';

export interface UseSubscriptionOptions {
  onSubscribed?: (ctx: SubscribedContext) => void;
  onSubscribing?: (ctx: CodeContext) => void;
  onUnsubscribed?: (ctx: CodeContext) => void;
  onJoin?: (ev: PresenceEvent) => void;
  onLeave?: (ev: PresenceEvent) => void;
  onError?: (err: Error) => void;
}

export interface UseSubscriptionResult<T> {
  /** The shared Subscription (null while `channel` is null or before the first effect). */
  subscription: Subscription<T> | null;
  state: SubscriptionState;
}

/**
 * Receive the publications of `channel` while mounted. The callbacks may be
 * new functions on every render: the latest ones are called, and the
 * subscription is only redone when `channel` changes. `channel` null or
 * undefined: no subscription.
 */
export function useSubscription<T = unknown>(
  channel: Channel,
  onPublication?: ((pub: Publication<T>) => void) | null,
  options: UseSubscriptionOptions = {},
): UseSubscriptionResult<T> {
  const latest = useRef({ onPublication, options });
  latest.current = { onPublication, options };
  const subscription = useSharedSubscription<T>(channel, (sub) => {
    const offs = [
      sub.on('publication', (p) => latest.current.onPublication?.(p)),
      sub.on('subscribed', (c) => latest.current.options.onSubscribed?.(c)),
      sub.on('subscribing', (c) => latest.current.options.onSubscribing?.(c)),
      sub.on('unsubscribed', (c) => latest.current.options.onUnsubscribed?.(c)),
      sub.on('join', (e) => latest.current.options.onJoin?.(e)),
      sub.on('leave', (e) => latest.current.options.onLeave?.(e)),
      sub.on('error', (e) => latest.current.options.onError?.(e)),
    ];
    return () => offs.forEach((off) => off());
  });
  const state = useSubscriptionState(subscription);
  return { subscription, state };
}

/** The live state of a Subscription ('unsubscribed' for none). */
export function useSubscriptionState(sub: Subscription<any> | null): SubscriptionState {
  const listen = useCallback((notify: () => void) => (sub ? sub.on('state', notify) : () => {}), [sub]);
  return useSyncExternalStore(listen, () => sub?.state ?? 'unsubscribed', () => 'unsubscribed');
}
