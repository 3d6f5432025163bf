/**
 * The Redis engine over TLS (`rediss://`), against a real redis-server that
 * speaks TLS only, with a password, and a certificate from a CA made here
 * with openssl: two `tidings serve` nodes that trust the CA (through Node's
 * NODE_EXTRA_CA_CERTS, docs/operations.md) deliver across each other; a node
 * that does not trust it refuses to start instead of talking in the clear or
 * to an unverified server.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllNodes, startNode } from './cluster-helpers.js';
import { freePort, until } from './helpers.js';
import { REDIS_BIN } from './redis-server.js';
import { loggingClient, publishOnce } from './topology-helpers.js';

const OPENSSL = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((p) => existsSync(p));
const skip = (!REDIS_BIN || !OPENSSL) && process.env.CI !== 'true';
const PASSWORD = 'tls-test-password';

/** A CA, and a server certificate it signed for 127.0.0.1. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  if (!OPENSSL) throw new Error('openssl is required (apt-get install openssl)');
  const at = (f: string) => join(dir, f);
  const run = (...args: string[]) => execFileSync(OPENSSL, args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '1', '-subj', '/CN=tidings test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=127.0.0.1');
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${at('san.ext')}`]);
  run('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.pem'), '-days', '1', '-extfile', at('san.ext'));
  return { ca: at('ca.pem'), cert: at('server.pem'), key: at('server.key') };
}

describe.skipIf(skip)('Redis engine over TLS', () => {
  let dir = '';
  let redis: ChildProcess | undefined;
  let port = 0;
  let certs: { ca: string; cert: string; key: string };

  beforeAll(async () => {
    if (!REDIS_BIN) throw new Error('redis-server is required (apt-get install redis-server)');
    dir = mkdtempSync(join(tmpdir(), 'tidings-tls-'));
    certs = makeCertificates(dir);
    port = await freePort();
    // TLS only: the plain port is off.
    redis = spawn(REDIS_BIN, ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const net = await import('node:net');
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: import('node:net').Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 30_000);

  afterAll(() => {
    killAllNodes();
    redis?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two nodes that trust the CA deliver to each other over rediss://', async () => {
    const url = `rediss://:${PASSWORD}@127.0.0.1:${port}`;
    const env = { NODE_EXTRA_CA_CERTS: certs.ca };
    const a = await startNode(url, { engine: { prefix: 'tls:' } }, env);
    const b = await startNode(url, { engine: { prefix: 'tls:' } }, env);
    const client = loggingClient(`ws://127.0.0.1:${a.port}/ws`, 'tina', ['jobs:tls']);
    try {
      await until(() => client.subscribed(), 15_000, 'subscribed on node a');
      const acks = [];
      for (let id = 0; id < 20; id++) acks.push(await publishOnce([b.port], 'jobs:tls', id));
      expect(acks.every((x) => x !== undefined)).toBe(true);
      const log = client.logs.get('jobs:tls')!;
      await until(() => log.deliveries.length === 20, 15_000, 'the 20 publications made on node b');
      expect(log.deliveries.map((d) => d.id)).toEqual([...Array(20).keys()]);
    } finally {
      client.client.disconnect();
    }
  });

  it('a node that does not trust the certificate refuses to start', async () => {
    const url = `rediss://:${PASSWORD}@127.0.0.1:${port}`;
    await expect(startNode(url, { engine: { prefix: 'tls:' } }, { NODE_EXTRA_CA_CERTS: '' })).rejects.toThrow(/certificate|self.signed|unable to verify/i);
  });
});
