/**
 * A pub/sub link: the subscriptions of one engine part, kept alive across
 * reconnects, failovers and slot moves. Pub/sub is at most once, so the link
 * says which keys may have missed messages (`onResubscribed`), after it has
 * subscribed them again; the part then resyncs them from the stored streams.
 *
 * ConnectionLink is one connection (one server, or the primary Sentinel points
 * to); redis-shard-link.ts has the Redis Cluster one.
 */
import { EventEmitter } from 'node:events';
import { supportsShardedPubSub } from '@tidings/streams';
import type { Cluster, Redis } from 'ioredis';

/** `shard`: sharded pub/sub where the server has it; `broadcast`: classic pub/sub (sharded on a cluster). */
export type PubSubKind = 'shard' | 'broadcast';

export interface PubSubLink {
  /** Whether messages go by sharded pub/sub (SPUBLISH); known once connected. */
  readonly sharded: boolean;
  /** Connect; resolves when subscriptions can be made. */
  connect(): Promise<void>;
  subscribe(key: string): Promise<void>;
  unsubscribe(key: string): Promise<void>;
  /** Publish `msg` to `key` the way this link receives it (SPUBLISH or PUBLISH, on the command client). */
  publish(key: string, msg: string): Promise<unknown>;
  onMessage(fn: (key: string, msg: string) => void): void;
  /** Keys that may have missed messages and are subscribed again. */
  onResubscribed(fn: (keys: string[]) => void): void;
  ready(): boolean;
  /** Emits 'close' when a connection of the link drops and 'ready' when all are back (for redis-watch.ts). */
  readonly events: EventEmitter;
  close(): void;
}

export class ConnectionLink implements PubSubLink {
  readonly events = new EventEmitter();
  private readonly keys = new Set<string>();
  sharded = false;
  private lost = false;
  private resubscribed: (keys: string[]) => void = () => {};

  constructor(
    private readonly cmd: Redis | Cluster,
    private readonly sub: Redis,
    private readonly kind: PubSubKind,
  ) {
    sub.on('error', () => {}); // reported by the command client and redis-watch.ts
    sub.on('close', () => {
      this.lost = true;
      this.events.emit('close');
    });
    sub.on('ready', () => void this.onReady());
  }

  async connect(): Promise<void> {
    await this.sub.connect();
    this.sharded = this.kind === 'shard' && (await supportsShardedPubSub(this.sub));
  }

  onMessage(fn: (key: string, msg: string) => void): void {
    this.sub.on(this.kind === 'shard' ? 'smessage' : 'message', fn);
    if (this.kind === 'shard') this.sub.on('message', fn); // Redis < 7
  }

  onResubscribed(fn: (keys: string[]) => void): void {
    this.resubscribed = fn;
  }

  async subscribe(key: string): Promise<void> {
    this.keys.add(key);
    try {
      await (this.sharded ? this.sub.ssubscribe(key) : this.sub.subscribe(key));
    } catch (err) {
      this.keys.delete(key);
      throw err;
    }
  }

  async unsubscribe(key: string): Promise<void> {
    this.keys.delete(key);
    await (this.sharded ? this.sub.sunsubscribe(key) : this.sub.unsubscribe(key)).catch(() => {});
  }

  publish(key: string, msg: string): Promise<unknown> {
    return this.sharded ? this.cmd.spublish(key, msg) : this.cmd.publish(key, msg);
  }

  ready(): boolean {
    return this.sub.status === 'ready';
  }

  close(): void {
    this.sub.disconnect();
  }

  /** Back after a drop (or on the promoted primary): subscribe again, then say what may have been missed. */
  private async onReady(): Promise<void> {
    const keys = this.lost ? [...this.keys] : [];
    this.lost = false;
    if (keys.length > 0) await (this.sharded ? this.sub.ssubscribe(...keys) : this.sub.subscribe(...keys)).catch(() => {});
    this.events.emit('ready');
    if (keys.length > 0) this.resubscribed(keys);
  }
}
