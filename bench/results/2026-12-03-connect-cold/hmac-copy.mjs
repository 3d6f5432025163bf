/**
 * One HS256 MAC per token: createHmac each time (what auth/hmac-jwt.ts does)
 * against inner and outer SHA-256 states keyed once and copied per token.
 *
 *   node hmac-copy.mjs hmac|copy N
 */
import { createHash, createHmac } from 'node:crypto';
const which = process.argv[2]; const N = Number(process.argv[3] ?? 5000);
const key = Buffer.from('bench-secret-0123456789-0123456789-abcdef');
const msgs = []; for (let i = 0; i < N; i++) msgs.push(`eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'u' + i, exp: 2e9, iat: 1.7e9 })).toString('base64url')}`);
function pads(k) { const b = Buffer.alloc(64); k.copy(b); const i = Buffer.alloc(64), o = Buffer.alloc(64); for (let j = 0; j < 64; j++) { i[j] = b[j] ^ 0x36; o[j] = b[j] ^ 0x5c; } return [createHash('sha256').update(i), createHash('sha256').update(o)]; }
const [inner, outer] = pads(key);
const f = which === 'hmac' ? (m) => createHmac('sha256', key).update(m).digest() : (m) => outer.copy().update(inner.copy().update(m).digest()).digest();
// same result
if (!f(msgs[0]).equals(createHmac('sha256', key).update(msgs[0]).digest())) throw new Error('mismatch');
const t0 = process.cpuUsage(); let x = 0;
for (const m of msgs) x += f(m)[0];
const t = process.cpuUsage(t0); console.log(which, N, ((t.user + t.system) / N).toFixed(2), 'µs each');
