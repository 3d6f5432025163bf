/**
 * The admission of connections (transport/admission.ts) under arbitrary
 * input: X-Forwarded-For comes from the network, so any header must give a
 * well-formed answer that only a trusted proxy can influence; and any
 * sequence of opens and closes keeps the counts exact and within the limits.
 */
import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Admission } from '../packages/server/dist/transport/admission.js';

const limits = (over: Record<string, unknown> = {}) => ({
  maxConnections: 0,
  maxConnectionsPerAddress: 0,
  trustedProxies: [] as string[],
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  bodyIdleTimeout: 10_000,
  ...over,
});

const request = (peer: string, xff: string | string[] | undefined) =>
  ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as never;

const ipv4 = fc.ipV4();
const hop = fc.oneof(ipv4, fc.ipV6(), fc.string({ maxLength: 20 }), fc.constantFrom('unknown', '', ' 10.1.2.3 ', '::ffff:10.1.2.3', '203.0.113.9:443', '[2001:db8::1]:80', '[fd00::1]'));
const header = fc.oneof(fc.array(hop, { maxLength: 6 }).map((h) => h.join(',')), fc.string({ maxLength: 60 }), fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }));

describe('the source address', () => {
  it('is the peer itself whatever an untrusted peer sends', () => {
    const a = new Admission(limits({ trustedProxies: ['10.0.0.0/8'] }));
    fc.assert(fc.property(ipv4.filter((ip) => !ip.startsWith('10.')), header, (peer, xff) => {
        expect(a.sourceAddress(request(peer, xff))).toBe(peer);
      }), { numRuns: 500 });
  });

  it('behind a trusted proxy, is an IP address from the header or the proxy, and never a trusted one unless nothing else is there', () => {
    const a = new Admission(limits({ trustedProxies: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'] }));
    const trusted = new BlockList();
    trusted.addAddress('127.0.0.1');
    trusted.addSubnet('10.0.0.0', 8);
    trusted.addSubnet('fd00::', 8, 'ipv6');
    fc.assert(
      fc.property(header, (xff) => {
        const got = a.sourceAddress(request('::ffff:127.0.0.1', xff));
        expect(isIP(got)).not.toBe(0);
        const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((h) => h.trim().replace(/^::ffff:(?=\d+\.)/, ''));
        const named = (h: string) => h === got || h.startsWith(`[${got}]`) || h.startsWith(`${got}:`); // a hop may carry a port
        expect(got === '127.0.0.1' || hops.some(named)).toBe(true);
        if (got !== '127.0.0.1') expect(trusted.check(got, isIP(got) === 6 ? 'ipv6' : 'ipv4')).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('is the last address before the trusted proxies', () => {
    const a = new Admission(limits({ trustedProxies: ['127.0.0.1', '10.0.0.0/8'] }));
    expect(a.sourceAddress(request('127.0.0.1', '198.51.100.1, 203.0.113.9, 10.4.4.4'))).toBe('203.0.113.9');
    expect(a.sourceAddress(request('127.0.0.1', ['198.51.100.1', '10.4.4.4, 10.0.0.2']))).toBe('198.51.100.1');
    expect(a.sourceAddress(request('127.0.0.1', 'garbage, 10.4.4.4'))).toBe('127.0.0.1');
    expect(a.sourceAddress(request('127.0.0.1', undefined))).toBe('127.0.0.1');
  });

  it('reads a hop that carries a port, as some proxies write it', () => {
    const a = new Admission(limits({ trustedProxies: ['127.0.0.1', '10.0.0.0/8'] }));
    expect(a.sourceAddress(request('127.0.0.1', '203.0.113.9:51234, 10.4.4.4:443'))).toBe('203.0.113.9');
    expect(a.sourceAddress(request('127.0.0.1', '[2001:db8::7]:8080'))).toBe('2001:db8::7');
    expect(a.sourceAddress(request('127.0.0.1', '[2001:db8::7]'))).toBe('2001:db8::7');
    expect(a.sourceAddress(request('127.0.0.1', '[2001:db8::7]x'))).toBe('127.0.0.1');
    expect(a.sourceAddress(request('127.0.0.1', '203.0.113.9:99999999'))).toBe('127.0.0.1');
  });
});

describe('admission counts', () => {
  it('stay exact and within both limits for any sequence of opens and closes', () => {
    const op = fc.record({ open: fc.boolean(), address: fc.integer({ min: 0, max: 5 }).map((i) => `192.0.2.${i}`) });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 4 }), fc.array(op, { maxLength: 200 }), (maxConnections, maxConnectionsPerAddress, ops) => {
        const a = new Admission(limits({ maxConnections, maxConnectionsPerAddress }));
        const model = new Map<string, number>();
        for (const { open, address } of ops) {
          const held = model.get(address) ?? 0;
          if (!open) {
            if (held === 0) continue; // only admitted connections close
            a.release(address);
            if (held === 1) model.delete(address);
            else model.set(address, held - 1);
            continue;
          }
          const total = [...model.values()].reduce((x, y) => x + y, 0);
          const expected = maxConnections > 0 && total >= maxConnections ? 503 : maxConnectionsPerAddress > 0 && held >= maxConnectionsPerAddress ? 429 : undefined;
          expect(a.admit(address)?.status).toBe(expected);
          if (expected === undefined) model.set(address, held + 1);
        }
        expect(a.connections).toBe([...model.values()].reduce((x, y) => x + y, 0));
        expect(a.addresses).toBe(model.size);
      }),
      { numRuns: 300 },
    );
  });
});
