/**
 * The ephemeral-signal surface of @tidings/client, as this package uses it:
 * typing indicators ride on keyed signals that the server expires by itself.
 */
import type { ClientInfo, Subscription } from '@tidings/client';

export interface Signal<T = unknown> {
  channel: string;
  /** null when cleared. */
  data: T | null;
  info: ClientInfo;
  key?: string;
  ttl?: number;
  cleared?: boolean;
}

export interface SignalOptions {
  key?: string;
  ttl?: number;
}

/** A Subscription seen through its signal methods. */
export interface SignalSubscription {
  state: Subscription<unknown>['state'];
  signal(data: unknown, options?: SignalOptions): Promise<void>;
  on(event: 'signal', fn: (s: Signal) => void): () => void;
  on(event: 'subscribing' | 'unsubscribed', fn: () => void): () => void;
}

export function signalsOf(sub: Subscription<unknown>): SignalSubscription {
  return sub as unknown as SignalSubscription;
}
