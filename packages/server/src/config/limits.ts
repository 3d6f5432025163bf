/**
 * What one node accepts: connections per node and per source address, and how
 * long an HTTP request may take to arrive (docs/configuration.md, `limits`).
 * The per-user limit is `client.userConnectionLimit`.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { duration } from './duration.js';

/** An IP address, or a CIDR block like `10.0.0.0/8`. */
const proxyAddress = z.string().refine((v) => {
  const [ip, bits, ...rest] = v.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
}, 'must be an IP address or a CIDR block like 10.0.0.0/8');

export const limitsSchema = z
  .object({
    /** Open client connections (WebSocket and SSE) on this node; beyond it, 503 (0: no limit). */
    maxConnections: z.number().int().min(0).default(100_000),
    /** Open client connections from one source address; beyond it, 429 (0: no limit). */
    maxConnectionsPerAddress: z.number().int().min(0).default(2_000),
    /** Proxies whose `X-Forwarded-For` names the client's address (exact IPs or CIDR blocks). */
    trustedProxies: z.array(proxyAddress).default([]),
    /** Time for a request's headers to arrive (node:http headersTimeout); then 408 and the socket is closed. */
    headersTimeout: duration.default(10_000),
    /** Time for a whole request, headers and body, to arrive (node:http requestTimeout); then 408. */
    requestTimeout: duration.default(30_000),
    /** Longest pause while a request body is streaming in; then 408 and the socket is closed. */
    bodyIdleTimeout: duration.default(10_000),
  })
  .strict()
  .refine((l) => l.requestTimeout === 0 || l.headersTimeout <= l.requestTimeout, {
    message: 'headersTimeout must not be longer than requestTimeout',
    path: ['headersTimeout'],
  });

export type LimitsConfig = z.output<typeof limitsSchema>;
