/**
 * Helpers of the Redis topology tests (Cluster, Sentinel, rollback): clients
 * that log what they receive per channel, a publisher that logs what was
 * acknowledged, and a loopback proxy whose target can be switched (a
 * "failover" the test controls).
 */
import { createClient } from '@tidings/client';
import { signToken } from '@tidings/server';
import { API_KEY, SECRET, startProxy, until } from './helpers.js';
import type { Ack, ClientLog } from './cluster-helpers.js';

export interface LoggingClient {
  client: ReturnType<typeof createClient>;
  logs: Map<string, ClientLog>;
  subscribed(): boolean;
}

/** One client subscribed to `channels`, logging deliveries and recovery failures per channel. */
export function loggingClient(url: string, user: string, channels: string[]): LoggingClient {
  const client = createClient({ url, getToken: () => signToken(SECRET, { sub: user, ttlSeconds: 600 }), minReconnectDelay: 50, maxReconnectDelay: 400 });
  const logs = new Map<string, ClientLog>();
  const subs = channels.map((channel) => {
    const log: ClientLog = { deliveries: [], lost: 0 };
    logs.set(channel, log);
    return client.subscribe<{ id: number }>(channel, {
      onPublication: (p) => void log.deliveries.push({ offset: p.offset, epoch: p.epoch, id: p.data.id }),
      onSubscribed: (ctx) => {
        if (ctx.wasRecovering && !ctx.recovered) log.lost++;
      },
    });
  });
  client.connect();
  return { client, logs, subscribed: () => subs.every((s) => s.state === 'subscribed') };
}

/** One API publish to the first of `ports` that takes it; the acknowledgement, or undefined when none did. */
export async function publishOnce(ports: number[], channel: string, id: number): Promise<Ack | undefined> {
  for (const port of ports) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
        method: 'POST',
        headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel, data: { id } }),
        signal: AbortSignal.timeout(3000),
      });
      if (res.status === 200) return { ...((await res.json()) as { offset: number; epoch: string }), id };
      await res.body?.cancel();
    } catch {
      // that node is down or slow: the next one
    }
  }
  return undefined;
}

/** Publish ids 0..n-1 on `channel` one after another; `onProgress` runs before each. */
export async function publishSeries(ports: () => number[], channel: string, n: number, onProgress: (id: number) => Promise<void> | void = () => {}) {
  const acked: Ack[] = [];
  let refused = 0;
  for (let id = 0; id < n; id++) {
    await onProgress(id);
    const ack = await publishOnce(ports(), channel, id);
    if (ack) acked.push(ack);
    else refused++;
    await new Promise((r) => setTimeout(r, 5));
  }
  return { acked, refused };
}

/** Wait until every log holds every acknowledged id, or was told it lost its position. */
export async function settleLogs(logs: ClientLog[], acked: Ack[], ms = 30_000): Promise<void> {
  await until(() => logs.every((log) => log.lost > 0 || acked.every((a) => log.deliveries.some((d) => d.id === a.id))), ms, 'every client has every acknowledged publication');
}

/** Two different publications under one (epoch, offset), across every log and the acknowledgements. */
export function positionConflicts(acked: Ack[], logs: ClientLog[]): string[] {
  const byPosition = new Map<string, number>();
  const conflicts: string[] = [];
  for (const p of [...acked, ...logs.flatMap((l) => l.deliveries)]) {
    const key = `${p.epoch}:${p.offset}`;
    const id = byPosition.get(key);
    if (id === undefined) byPosition.set(key, p.id);
    else if (id !== p.id) conflicts.push(`${key} is both ${id} and ${p.id}`);
  }
  return conflicts;
}

/** A TCP proxy on loopback to `target`; `switchTo` sends new connections elsewhere and cuts the open ones. */
export async function startSwitchProxy(target: number) {
  const proxy = await startProxy(target);
  return Object.assign(proxy, { url: `redis://127.0.0.1:${proxy.port}` });
}
