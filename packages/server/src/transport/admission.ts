/**
 * Who may open a connection: at most `limits.maxConnections` on this node and
 * `limits.maxConnectionsPerAddress` from one source address, counted over
 * WebSocket and SSE together. The source address is the socket's peer, or,
 * when that peer is a trusted proxy, the last address in `X-Forwarded-For`
 * that is not one. The map holds one entry per address with an open
 * connection, so it is bounded by `maxConnections`.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { ErrorCode } from '@tidings/protocol';
import type { LimitsConfig } from '../config/limits.js';

/** Why a connection is refused, as the HTTP status and error code that say it. */
export interface Refusal {
  readonly status: 429 | 503;
  readonly code: number;
  readonly message: string;
}

const NODE_FULL: Refusal = { status: 503, code: ErrorCode.Unavailable, message: 'node is at its connection limit, reconnect elsewhere' };
const ADDRESS_FULL: Refusal = { status: 429, code: ErrorCode.LimitExceeded, message: 'too many connections from this address' };

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) as `1.2.3.4`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** A hop as some proxies write it, `1.2.3.4:5678`, `[2001:db8::1]:5678` or `[2001:db8::1]`, without the port. */
function withoutPort(hop: string): string {
  if (hop.startsWith('[')) {
    const end = hop.indexOf(']');
    return end > 0 && (end === hop.length - 1 || /^:\d{1,5}$/.test(hop.slice(end + 1))) ? hop.slice(1, end) : hop;
  }
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(hop);
  return m ? m[1]! : hop;
}

function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip, bits] = entry.split('/') as [string, string | undefined];
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  return list;
}

export class Admission {
  private readonly open = new Map<string, number>();
  private total = 0;
  private readonly proxies: BlockList | undefined;

  constructor(private readonly limits: LimitsConfig) {
    this.proxies = limits.trustedProxies.length > 0 ? proxyList(limits.trustedProxies) : undefined;
  }

  /** Open connections counted here. */
  get connections(): number {
    return this.total;
  }

  /** Source addresses with an open connection. */
  get addresses(): number {
    return this.open.size;
  }

  /** The client's address: the peer, or what trusted proxies in front of it say. */
  sourceAddress(req: IncomingMessage): string {
    const peer = plain(req.socket.remoteAddress ?? '');
    if (!this.proxies || !this.trusted(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    // Walk from the nearest hop back; the first address no trusted proxy owns is the client.
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = plain(withoutPort(hops[i]!.trim()));
      if (isIP(hop) === 0) return peer;
      if (!this.trusted(hop)) return hop;
    }
    return peer;
  }

  private trusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.proxies!.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** Count a new connection from `address`, or say why not. */
  admit(address: string): Refusal | undefined {
    const { maxConnections, maxConnectionsPerAddress } = this.limits;
    if (maxConnections > 0 && this.total >= maxConnections) return NODE_FULL;
    const count = this.open.get(address) ?? 0;
    if (maxConnectionsPerAddress > 0 && count >= maxConnectionsPerAddress) return ADDRESS_FULL;
    this.open.set(address, count + 1);
    this.total++;
    return undefined;
  }

  /** A connection admitted from `address` closed. */
  release(address: string): void {
    const count = this.open.get(address);
    if (count === undefined) return;
    if (count <= 1) this.open.delete(address);
    else this.open.set(address, count - 1);
    this.total--;
  }
}
