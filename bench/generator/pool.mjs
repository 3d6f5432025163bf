/**
 * Opening many connections: a bounded window of handshakes in flight, source
 * addresses spread over 127.0.0.x, and one shared sink. Bounded in time: a
 * pool that cannot open within `timeoutMs` reports how far it got.
 */
import { WsConnection } from './connection.mjs';
import { sourceAddress } from '../lib/sys.mjs';
import { nowUs } from '../lib/payload.mjs';
import { Histogram } from '../lib/histogram.mjs';

/**
 * @param {object} o
 * @param {Array<{host: string, port: number}>} o.targets  connections go round-robin over these (several gateway nodes)
 * @param {object} o.protocol
 * @param {object} o.sink
 * @param {number} o.count
 * @param {string[]} o.tokens   token i % tokens.length for connection i
 * @param {(i: number) => string} [o.channelOf]
 * @param {number} [o.sampleEvery]  record latency on every n-th connection (0: none)
 * @param {number} [o.window]       handshakes in flight
 */
export async function openPool({ targets, protocol, sink, count, tokens, channelOf = () => '', sampleEvery = 0, window = 256, timeoutMs = 60_000, extra }) {
  const conns = [];
  const connectTimes = new Histogram();
  const errors = new Map();
  const started = performance.now();
  const deadline = started + timeoutMs;
  let next = 0;

  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const conn = new WsConnection({
        target: targets[i % targets.length],
        protocol,
        sink,
        index: i,
        token: tokens[i % tokens.length],
        channel: channelOf(i),
        sampled: sampleEvery > 0 && i % sampleEvery === 0,
        localAddress: sourceAddress(),
      });
      if (extra) extra(conn, i);
      try {
        await conn.open(Math.max(1000, deadline - performance.now()));
        connectTimes.record(conn.readyUs - conn.startedUs);
        conns.push(conn);
      } catch (err) {
        const key = String(err.message).slice(0, 80);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { conns, opened: conns.length, failed: count - conns.length, seconds, rate: conns.length / seconds, connectTimes, errors: Object.fromEntries(errors) };
}

/** Cut every connection at once; resolves when all sockets report closed (bounded). */
export async function closeAll(conns, timeoutMs = 10_000) {
  for (const c of conns) c.destroy();
  const deadline = performance.now() + timeoutMs;
  while (conns.some((c) => c.state !== 'closed') && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

export { nowUs };
