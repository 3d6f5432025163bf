/**
 * The host's floor for one-subscriber-per-channel delivery: what one
 * `socket.write` of one small frame costs when every write goes to a
 * different loopback socket, as each publication of the many-channels
 * scenarios does. No gateway runs: servers/write-floor-server.mjs (core 0)
 * writes a prebuilt buffer round-robin to sockets this process (the
 * generator, core 1) opened and reads. On loopback the writing core also pays
 * for the receiving side's TCP processing, so no server on this host delivers
 * more than 1e6 / (µs per write) such publications a second on one core,
 * even if it did nothing else. The issue-15 targets print it beside the batch
 * target (report/targets.mjs).
 */
import { fork } from 'node:child_process';
import net from 'node:net';
import { pin, sleep, waitFor } from '../lib/sys.mjs';

export const title = 'Write floor: one frame per write to distinct loopback sockets, no gateway';
export const only = ['tidings'];

const PARALLEL_CONNECTS = 50;
const BURST = 500;

export async function runAll({ sockets = 10_000, writes = 400_000, size = 250, rounds = 3, log = () => {} }) {
  const child = fork(new URL('../servers/write-floor-server.mjs', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies = [];
  child.on('message', (m) => replies.push(m));
  const conns = [];
  try {
    if (!(await waitFor(() => replies.length > 0, 10_000))) throw new Error('write-floor server did not start');
    pin(child.pid, 0);
    const { port } = replies.shift();
    const counter = { bytes: 0 };
    await openAll(port, sockets, conns, counter);
    const runs = [];
    for (let r = 0; r < rounds; r++) {
      child.send({ writes, size, burst: BURST });
      if (!(await waitFor(() => replies.length > 0, 120_000))) throw new Error('write-floor round did not finish');
      runs.push(replies.shift().usPerWrite);
      await sleep(300);
    }
    const expected = rounds * writes * size;
    await waitFor(() => counter.bytes === expected, 10_000);
    if (counter.bytes !== expected) throw new Error(`receiver got ${counter.bytes} of ${expected} bytes`);
    const usPerWrite = [...runs].sort((a, b) => a - b)[runs.length >> 1];
    const result = { usPerWrite: round2(usPerWrite), runs: runs.map(round2), ceiling: Math.floor(1e6 / usPerWrite), sockets, writes, size };
    log(`  ${usPerWrite.toFixed(2)} µs per write (${result.runs.join(', ')}): at most ${result.ceiling.toLocaleString('en-US')} deliveries/s on one core`);
    return { params: { sockets, writes, size, rounds }, servers: { host: result } };
  } finally {
    for (const s of conns) s.destroy();
    child.kill();
  }
}

const round2 = (v) => Math.round(v * 100) / 100;

/** Open `count` sockets to `port`, PARALLEL_CONNECTS at a time, counting the bytes they read. */
function openAll(port, count, conns, counter) {
  return new Promise((resolve, reject) => {
    let open = 0;
    const next = (i) => {
      if (i >= count) return;
      const s = net.connect(port, '127.0.0.1', () => {
        if (++open === count) resolve();
        next(i + PARALLEL_CONNECTS);
      });
      s.on('data', (d) => (counter.bytes += d.length));
      s.on('error', reject);
      conns.push(s);
    };
    for (let k = 0; k < PARALLEL_CONNECTS; k++) next(k);
  });
}

export const columns = [
  ['sockets', 'sockets'],
  ['size', 'frame bytes'],
  ['usPerWrite', 'µs CPU per write'],
  ['runs', 'rounds'],
  ['ceiling', 'deliveries/s on one core'],
];

export function rowsOf(result) {
  const h = result.servers.host;
  if (!h || h.error) return [{ sockets: '', size: '', usPerWrite: h?.error ?? 'not measured', runs: '', ceiling: '' }];
  return [{ ...h, runs: h.runs.join(', '), ceiling: h.ceiling.toLocaleString('en-US') }];
}
