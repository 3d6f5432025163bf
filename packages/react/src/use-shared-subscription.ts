/**
 * The building block of the channel hooks: hold the provider's shared
 * Subscription of `channel` while mounted, and attach listeners to it.
 * `attach` runs once per (subscription, channel), not on every render; it
 * returns its own cleanup.
 */
import { useEffect, useState } from 'react';
import type { Subscription } from '@tidings/client';
import { useTidings } from './provider.js';

export type Channel = string | null | undefined;

export function useSharedSubscription<T>(
  channel: Channel,
  attach: (sub: Subscription<T>) => (() => void) | void,
): Subscription<T> | null {
  const { channels } = useTidings();
  const [sub, setSub] = useState<Subscription<T> | null>(null);
  useEffect(() => {
    if (!channel) return;
    const { sub: held, release } = channels.acquire<T>(channel);
    const detach = attach(held);
    setSub(held);
    return () => {
      detach?.();
      release();
      setSub((current) => (current === held ? null : current));
    };
    // Not `attach`: it reads the latest props through refs, and re-running it per render is what this hook avoids.
  }, [channels, channel]);
  return channel ? sub : null;
}
