/**
 * The host's write floor on its own (scenarios/write-floor.mjs): run from the
 * repository root with `node bench/write-floor.mjs [--sockets 10000]
 * [--writes 400000] [--size 250] [--rounds 3] [--against N]`. `--against N`
 * prints the ceiling as a multiple of N (a peer's single-publish figure from
 * the same host, say). Pins itself to core 1 and the writer to core 0.
 */
import { parseArgs } from 'node:util';
import { pin } from './lib/sys.mjs';
import { runAll } from './scenarios/write-floor.mjs';

const { values: o } = parseArgs({
  options: {
    sockets: { type: 'string', default: '10000' },
    writes: { type: 'string', default: '400000' },
    size: { type: 'string', default: '250' },
    rounds: { type: 'string', default: '3' },
    against: { type: 'string' },
  },
});
pin(process.pid, 1);
const { servers } = await runAll({ sockets: Number(o.sockets), writes: Number(o.writes), size: Number(o.size), rounds: Number(o.rounds), log: console.log });
const h = servers.host;
console.log(`write floor: ${h.sockets} loopback sockets, ${h.size}-byte frames, ${h.writes} writes per round`);
console.log(`  CPU per write on the writer's core: ${h.runs.join(', ')} µs; median ${h.usPerWrite} µs`);
console.log(`  ceiling on one core, writes only: ${h.ceiling.toLocaleString('en-US')} deliveries/s`);
if (o.against) console.log(`  ceiling / ${Number(o.against).toLocaleString('en-US')} = ${(h.ceiling / Number(o.against)).toFixed(2)}×`);
process.exit(0);
