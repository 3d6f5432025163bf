/**
 * A gateway in its own process for the attack tests, so its heap is measured
 * apart from the attacker's. Started with --expose-gc and an IPC channel by
 * test/security-harness.ts; the config comes as JSON in argv[2].
 * Answers {op:'heap'} with the heap after full collections, and {op:'stats'}.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Gateway, makeConfig } from '@tidings/server';

const gw = new Gateway({ config: makeConfig(JSON.parse(process.argv[2] ?? '{}')) });
const port = await gw.listen();

/** Collect until two heaps in a row agree: sockets and their buffers are freed over a few turns. */
async function settledHeap() {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    globalThis.gc();
    await nextTurn();
    const now = process.memoryUsage().heapUsed;
    if (Math.abs(now - last) < 16 * 1024) return now;
    last = now;
  }
  return last;
}

const retained = [];

process.on('message', async (msg) => {
  if (msg.op === 'heap') process.send({ id: msg.id, heap: await settledHeap() });
  if (msg.op === 'stats') process.send({ id: msg.id, stats: { ...gw.stats(), channels: gw.ctx.hub.channelCount } });
  // Only for the harness's own test that a leak is caught: keeps `count` small objects alive.
  if (msg.op === 'retain') {
    retained.push(Array.from({ length: msg.count }, (_, i) => ({ i, label: `retained-${i}` })));
    process.send({ id: msg.id });
  }
  if (msg.op === 'release') {
    retained.length = 0;
    process.send({ id: msg.id });
  }
  if (msg.op === 'close') {
    await gw.close(1000);
    process.exit(0);
  }
});
process.send({ ready: port });
