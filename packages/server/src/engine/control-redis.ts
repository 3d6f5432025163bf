/** The control bus on Redis pub/sub: one shared key, a subscriber connection of its own. Contract: control.ts. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ControlBus, ControlHandler, ControlMessage } from './control.js';
import { EngineUnavailable } from './engine.js';

export class RedisControl implements ControlBus {
  private handler?: ControlHandler;

  /** `cmd` publishes; `sub` is this bus's own subscriber connection. */
  constructor(
    private readonly cmd: Redis,
    private readonly sub: Redis,
    private readonly key: string,
    private readonly log?: Logger,
  ) {}

  /** Call once both connections are up; resolves when subscribed. */
  async start(handler: ControlHandler): Promise<void> {
    this.handler = handler;
    this.sub.on('message', (_key: string, msg: string) => this.onMessage(msg));
    this.sub.on('ready', () => void this.sub.subscribe(this.key).catch(() => {}));
    await this.sub.subscribe(this.key);
  }

  stop(): void {
    this.handler = undefined;
  }

  async publish(msg: ControlMessage): Promise<void> {
    try {
      await this.cmd.publish(this.key, JSON.stringify(msg));
    } catch (err) {
      throw new EngineUnavailable(`control message failed: ${(err as Error).message}`);
    }
  }

  private onMessage(msg: string): void {
    try {
      this.handler?.onControl(JSON.parse(msg) as ControlMessage);
    } catch (err) {
      this.log?.warn({ err }, 'unreadable control message');
    }
  }
}
