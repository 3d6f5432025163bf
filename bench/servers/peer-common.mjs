/**
 * What the peer servers share with Tidings' surface, so one generator and one
 * publisher drive all of them: `POST /api/publish {channel, data}` with
 * `Authorization: apikey …`, `GET /health`, a port from `--port`, and HS256
 * token checks on connect.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { API_KEY } from '../lib/auth.mjs';

export { verifyHs256 } from '../lib/auth.mjs';

export function peerArgs() {
  const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, coalesce: { type: 'boolean', default: false } } });
  return { port: Number(values.port), host: values.host, coalesce: values.coalesce };
}

function reply(res, status, text) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** An HTTP server answering /health and /api/publish; `publish(channel, data)` gets the parsed body. */
export function createPeerHttp(publish) {
  const expected = `apikey ${API_KEY}`;
  return createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') return reply(res, 200, '{"status":"ok"}');
    if (req.method !== 'POST' || req.url !== '/api/publish') return reply(res, 404, '{}');
    if (req.headers.authorization !== expected) return reply(res, 401, '{}');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString());
      } catch {
        return reply(res, 400, '{}');
      }
      publish(body.channel, body.data);
      reply(res, 200, '{}');
    });
  });
}

/** Stop on SIGTERM like `tidings serve` does (so --cpu-prof profiles get written). */
export function exitOnSigterm(server) {
  process.once('SIGTERM', () => {
    server.closeAllConnections?.();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
