/**
 * The whole showcase in one call: the gateway (its own process, embedded
 * engine), the backend (this process: sign-in, chat, meetings, jobs, devices,
 * the RPC backend, the built front end) and the Python worker.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { handleAnalyze } from './analysis.js';
import { Auth } from './auth.js';
import { Broadcaster } from './broadcaster.js';
import { Chat } from './chat.js';
import { Store } from './db.js';
import { Devices } from './devices.js';
import { GatewayProcess } from './gateway-process.js';
import { HttpError, Router, serveStatic } from './http.js';
import { Jobs, Worker } from './jobs.js';
import { Meetings } from './meeting.js';
import { WEB_DIR } from './paths.js';
import { sampleWav } from './wav.js';

export interface ShowcaseOptions {
  /** Backend (and page) port; 0 picks one. */
  port?: number;
  gatewayPort: number;
  /** SQLite file, gateway config and secrets live here. */
  dataDir: string;
  /** The Vite build to serve. */
  webDir?: string;
  python?: string;
  /** Pause between simulated pipeline steps, ms (tests make it short). */
  stepMs?: number;
  /** Whether the gateway's namespaces enable ephemeral signals (typing). */
  signals?: boolean;
  /** Start the gateway again when it dies (see GatewayProcess). */
  restartGatewayOnCrash?: boolean;
  gatewayLog?: (line: string) => void;
}

export interface Showcase {
  url: string;
  gateway: GatewayProcess;
  store: Store;
  broadcaster: Broadcaster;
  close(): Promise<void>;
}

const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/** The gateway's namespaces: history sized for each page's replay, presence where the page shows who is there. */
export function gatewayConfig(backendUrl: string, rpcKey: string, signals: boolean): Record<string, unknown> {
  const sig = signals ? { signals: true } : {};
  return {
    log: { level: 'warn' },
    strictNamespaces: true,
    namespaces: {
      // A meeting is at most a few hundred segments: keep them all for an hour, so a reconnecting viewer replays the whole run.
      meeting: { history: { size: 2000, ttl: '1h' } },
      chat: { presence: true, joinLeave: true, history: { size: 1000, ttl: '1h' }, ...sig },
      jobs: { history: { size: 500, ttl: '1h' } },
      devices: { presence: true, joinLeave: true, history: { size: 100, ttl: '1h' }, ...sig },
      session: { presence: true, joinLeave: true, history: false, ...sig },
    },
    rpc: { proxy: { url: `${backendUrl}/tidings-rpc`, timeout: '60s', methods: ['analyze'], headers: { 'x-gateway-key': rpcKey } } },
  };
}

export async function startShowcase(opts: ShowcaseOptions): Promise<Showcase> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const stepMs = opts.stepMs ?? 600;
  const secret = () => randomBytes(32).toString('base64url');
  const secrets = { tokenSecret: secret(), apiKey: secret(), sessionSecret: secret(), rpcKey: secret() };

  const server = createServer();
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const gateway = new GatewayProcess({
    port: opts.gatewayPort,
    dataDir,
    tokenSecret: secrets.tokenSecret,
    apiKey: secrets.apiKey,
    config: gatewayConfig(url, secrets.rpcKey, opts.signals ?? true),
    restartOnCrash: opts.restartGatewayOnCrash ?? false,
    ...(opts.gatewayLog ? { onLog: opts.gatewayLog } : {}),
  });
  await gateway.start();

  const store = new Store(join(dataDir, 'showcase.sqlite'));
  const broadcaster = new Broadcaster(gateway.httpUrl, secrets.apiKey);
  const worker = new Worker({ python: opts.python ?? 'python3', gatewayUrl: gateway.httpUrl, apiKey: secrets.apiKey, dbFile: store.file, stepMs });
  worker.start();
  // If this process ends without close() (an uncaught error, process.exit), its children go with it.
  const killChildren = () => {
    worker.killNow();
    gateway.killNow();
  };
  process.once('exit', killChildren);

  const auth = new Auth(secrets.sessionSecret, secrets.tokenSecret);
  const router = routes({
    auth,
    gateway,
    chat: new Chat(store, broadcaster),
    meetings: new Meetings(broadcaster, stepMs),
    jobs: new Jobs(store, worker),
    devices: new Devices(store, broadcaster),
    rpcKey: secrets.rpcKey,
    stepMs,
  });
  const webDir = resolve(opts.webDir ?? WEB_DIR);
  server.on('request', (req, res) => {
    void router.handle(req, res).then((matched) => {
      if (matched) return;
      if ((req.url ?? '').startsWith('/api/')) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such route"}');
      serveStatic(webDir, req, res);
    });
  });

  return {
    url,
    gateway,
    store,
    broadcaster,
    async close() {
      process.off('exit', killChildren);
      await worker.stop();
      await gateway.stop('SIGTERM');
      await closeServer(server);
      store.close();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

interface Parts {
  auth: Auth;
  gateway: GatewayProcess;
  chat: Chat;
  meetings: Meetings;
  jobs: Jobs;
  devices: Devices;
  rpcKey: string;
  stepMs: number;
}

function routes(p: Parts): Router {
  const { auth } = p;
  const device = (r: { req: { headers: Record<string, string | string[] | undefined> } }) => {
    const d = r.req.headers['x-device'];
    return typeof d === 'string' && d.length <= 40 ? d : 'browser';
  };
  return (
    new Router()
      .on('GET', '/api/config', () => ({ gatewayUrl: p.gateway.wsUrl }))
      .on('POST', '/api/signin', async (r) => {
        const user = Auth.checkName(((await r.body()) as { user?: unknown }).user);
        return { user, session: await auth.signSession(user) };
      })
      .on('GET', '/api/token', async (r) => ({ token: await auth.connectionToken(await auth.user(r), device(r)) }))
      // Live meeting
      .on('GET', '/api/meetings/:id', async (r) => (await auth.user(r), p.meetings.get(r.params.id!)))
      .on('POST', '/api/meetings/:id/recordings', async (r) => {
        const user = await auth.user(r);
        const name = String(r.req.headers['x-file-name'] ?? 'recording.wav').slice(0, 120);
        const bytes = (await r.raw(MAX_UPLOAD_BYTES)).length;
        if (bytes === 0) throw new HttpError(400, 'the recording is empty');
        return p.meetings.start(Meetings.checkId(r.params.id!), user, { name, bytes });
      })
      .on('GET', '/samples/standup.wav', (r) => {
        r.res.writeHead(200, { 'content-type': 'audio/wav', 'cache-control': 'public, max-age=3600' });
        r.res.end(sampleWav());
      })
      // Chat
      .on('GET', '/api/conversations', async (r) => (await auth.user(r), { conversations: p.chat.conversations() }))
      .on('GET', '/api/conversations/:id/messages', async (r) => (await auth.user(r), { messages: p.chat.history(r.params.id!) }))
      .on('POST', '/api/conversations/:id/messages', async (r) => p.chat.post(r.params.id!, await auth.user(r), await r.body()))
      // Background jobs
      .on('GET', '/api/jobs', async (r) => ({ jobs: p.jobs.list(await auth.user(r)) }))
      .on('POST', '/api/jobs', async (r) => p.jobs.submit(await auth.user(r), (await r.body()) as Record<string, unknown>))
      // Devices
      .on('GET', '/api/devices/mood', async (r) => ({ mood: p.devices.mood(await auth.user(r)) }))
      .on('POST', '/api/devices/mood', async (r) => p.devices.setMood(await auth.user(r), await r.body()))
      .on('GET', '/api/devices/notifications', async (r) => ({ notifications: p.devices.list(await auth.user(r)) }))
      .on('POST', '/api/devices/notifications', async (r) => p.devices.notify(await auth.user(r), await r.body()))
      // Audio analysis: the gateway's RPC proxy calls this, never the browser.
      .on('POST', '/tidings-rpc', async (r) => handleAnalyze(r.req, r.res, await r.body(), p.rpcKey, p.stepMs / 2))
  );
}
