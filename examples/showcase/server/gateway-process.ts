/**
 * The gateway as its own process (`tidings serve`), the way an app deploys
 * it: the backend only knows its URL, its API key and the token secret. The
 * showcase can kill and restart it to show that every page survives that.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tidingsBin } from './paths.js';

export interface GatewaySecrets {
  tokenSecret: string;
  apiKey: string;
}

export interface GatewayProcessOptions extends GatewaySecrets {
  port: number;
  /** Where the gateway's config file is written. */
  dataDir: string;
  /** The gateway's JSON config (namespaces, RPC proxy, …). */
  config: Record<string, unknown>;
  /** Pipe the gateway's log lines here (default: dropped). */
  onLog?: (line: string) => void;
  /** Start it again when it dies without stop() being called (for `npm run showcase`: try `kill -9`). */
  restartOnCrash?: boolean;
}

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5000;

export class GatewayProcess {
  private child?: ChildProcess;
  private stopping = false;
  private readonly configFile: string;

  constructor(private readonly opts: GatewayProcessOptions) {
    this.configFile = join(opts.dataDir, 'gateway.json');
    writeFileSync(this.configFile, JSON.stringify(opts.config, null, 2));
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.opts.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.opts.port}/ws`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawn `tidings serve` and resolve once /ready answers 200. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.stopping = false;
    const child = spawn(process.execPath, [tidingsBin(), 'serve', '--config', this.configFile], {
      env: {
        PATH: process.env.PATH,
        TIDINGS_HOST: '127.0.0.1',
        TIDINGS_PORT: String(this.opts.port),
        TIDINGS_TOKEN_SECRET: this.opts.tokenSecret,
        TIDINGS_API_KEY: this.opts.apiKey,
        TIDINGS_DATA_DIR: this.opts.dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping || !this.opts.restartOnCrash) return;
      this.opts.onLog?.(`gateway exited (${signal ?? code}); starting it again`);
      setTimeout(() => void this.start().catch((err: Error) => this.opts.onLog?.(`gateway restart failed: ${err.message}`)), 1000).unref();
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line) this.opts.onLog?.(line);
      });
    }
    await this.waitReady(child);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`gateway exited with code ${child.exitCode} before it was ready`);
      try {
        const res = await fetch(`${this.httpUrl}/ready`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`gateway not ready after ${READY_TIMEOUT_MS} ms`);
  }

  /** Stop it: SIGKILL is a crash (clients see the socket die), SIGTERM a graceful drain. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.stopping = true;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    // A drain that does not finish in time is cut short.
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(force);
  }

  /** For process 'exit' handlers: kill at once, synchronously. */
  killNow(): void {
    if (this.running) this.child?.kill('SIGKILL');
  }

  async restart(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }
}
