/**
 * CPU per parseUpgrade call in a fresh process (cold JIT, as in a connect
 * storm): N distinct browser-like upgrade heads, parsed once each.
 *
 *   node parse-cold.mjs DIST N     DIST: a packages/server/dist folder
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, n = '5000'] = process.argv.slice(2);
const N = Number(n);
const { parseUpgrade } = await import(pathToFileURL(resolve(dist, 'http/fast-lane/upgrade.js')).href);
const heads = [];
for (let i = 0; i < N; i++) {
  const key = Buffer.from(String(i).padStart(16)).toString('base64');
  heads.push(Buffer.from(`GET /ws?x=${i} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nUser-Agent: bench/${i}\r\n\r\n`, 'latin1'));
}
const limits = { maxHeadBytes: 16384, maxBodyBytes: 0 };
const out = { target: '', headers: {} };
const start = process.cpuUsage();
let taken = 0;
for (const head of heads) if (parseUpgrade(head, limits, out) > 0) taken++;
const used = process.cpuUsage(start);
if (taken !== N) throw new Error(`took ${taken} of ${N}`);
console.log(`${N} parses: ${((used.user + used.system) / N).toFixed(2)} µs each`);
