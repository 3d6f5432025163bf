/**
 * The control bus on Redis pub/sub: one shared key on a link of its own
 * (classic pub/sub on one server; sharded on a cluster, so a control message
 * costs one primary, not every node). Contract: control.ts.
 */
import type { Logger } from 'pino';
import type { ControlBus, ControlHandler, ControlMessage } from './control.js';
import { EngineUnavailable } from './engine.js';
import type { PubSubLink } from './redis-pubsub.js';

export class RedisControl implements ControlBus {
  private handler?: ControlHandler;

  constructor(
    private readonly link: PubSubLink,
    private readonly key: string,
    private readonly log?: Logger,
  ) {}

  /** Call once the link is connected; resolves when subscribed (the link resubscribes by itself). */
  async start(handler: ControlHandler): Promise<void> {
    this.handler = handler;
    this.link.onMessage((_key, msg) => this.onMessage(msg));
    await this.link.subscribe(this.key);
  }

  stop(): void {
    this.handler = undefined;
  }

  async publish(msg: ControlMessage): Promise<void> {
    try {
      await this.link.publish(this.key, JSON.stringify(msg));
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
