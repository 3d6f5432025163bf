/**
 * Sharded pub/sub on Redis Cluster: each key is SSUBSCRIBEd on the primary
 * that owns its slot, through one subscriber connection per primary (at most
 * as many as the cluster has). A publication is SPUBLISHed to that one
 * primary, so its cost does not grow with the number of cluster nodes.
 *
 * Keys follow their slot: a MOVED answer is followed, the server's own
 * SUNSUBSCRIBE when a slot migrates and every slot-map refresh move the keys
 * whose slot changed hands, and a dropped connection resubscribes its keys.
 * Each time, the keys concerned are reported (`onResubscribed`) so the
 * broker recovers what pub/sub could not deliver meanwhile.
 */
import { EventEmitter } from 'node:events';
import { keySlot } from '@tidings/streams';
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import type { PubSubLink } from './redis-pubsub.js';

/** MOVED hops one subscribe follows before it gives up (a slot moves once per migration step). */
const MAX_HOPS = 5;

export class ClusterShardLink implements PubSubLink {
  readonly events = new EventEmitter();
  readonly sharded = true;
  /** Subscriber connection per primary ("host:port"). */
  private readonly conns = new Map<string, Redis>();
  /** Where each subscribed key is subscribed now. */
  private readonly where = new Map<string, string>();
  /** Keys subscribed per primary: `ready()` runs on every publish and must not walk every key. */
  private readonly keyCount = new Map<string, number>();
  private messages: (key: string, msg: string) => void = () => {};
  private resubscribed: (keys: string[]) => void = () => {};
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly auth: RedisOptions,
  ) {
    cluster.on('refresh', () => void this.follow(this.movedKeys(), 'map'));
  }

  async connect(): Promise<void> {
    // The command client has the slot map; subscriber connections open per primary on demand.
  }

  onMessage(fn: (key: string, msg: string) => void): void {
    this.messages = fn;
  }

  onResubscribed(fn: (keys: string[]) => void): void {
    this.resubscribed = fn;
  }

  async subscribe(key: string): Promise<void> {
    if (this.closed) throw new Error('the pub/sub link is closed');
    const node = await this.place(key, this.owner(key));
    this.placeKey(key, node);
  }

  async unsubscribe(key: string): Promise<void> {
    const node = this.where.get(key);
    this.dropKey(key);
    if (node) await this.conns.get(node)?.sunsubscribe(key).catch(() => {});
  }

  publish(key: string, msg: string): Promise<unknown> {
    return this.cluster.spublish(key, msg);
  }

  ready(): boolean {
    for (const node of this.keyCount.keys()) if (this.conns.get(node)?.status !== 'ready') return false;
    return true;
  }

  close(): void {
    this.closed = true;
    for (const conn of this.conns.values()) conn.disconnect();
    this.conns.clear();
  }

  /** Keys the slot map now places on another primary (the map refreshes every few seconds, mostly unchanged). */
  private movedKeys(): string[] {
    const moved: string[] = [];
    for (const [key, node] of this.where) {
      const owner = this.cluster.slots[keySlot(key)]?.[0];
      if (owner !== undefined && owner !== node) moved.push(key);
    }
    return moved;
  }

  private placeKey(key: string, node: string): void {
    this.dropKey(key);
    this.where.set(key, node);
    this.keyCount.set(node, (this.keyCount.get(node) ?? 0) + 1);
  }

  private dropKey(key: string): void {
    const node = this.where.get(key);
    if (node === undefined) return;
    this.where.delete(key);
    const left = (this.keyCount.get(node) ?? 1) - 1;
    if (left > 0) this.keyCount.set(node, left);
    else this.keyCount.delete(node);
  }

  /** The primary the command client's slot map names for `key`. */
  private owner(key: string): string {
    const node = this.cluster.slots[keySlot(key)]?.[0];
    if (!node) throw new Error('the cluster slot map has no node for this key yet');
    return node;
  }

  /** SSUBSCRIBE `key` on `node`, following MOVED answers; resolves with where it is subscribed. */
  private async place(key: string, node: string): Promise<string> {
    for (let hop = 0; ; hop++) {
      try {
        await this.connFor(node).ssubscribe(key);
        return node;
      } catch (err) {
        const moved = /^MOVED \d+ (\S+)/.exec((err as Error).message);
        if (!moved || hop >= MAX_HOPS) throw err;
        node = moved[1]!;
        this.cluster.refreshSlotsCache();
      }
    }
  }

  /**
   * Subscribe `keys` again and report those that may have missed messages.
   * `map`: go where the slot map says, report keys that changed primary;
   * `ask`: ask the primary they are on (it answers MOVED for slots it lost),
   * report keys that changed primary; `dropped`: their connection dropped,
   * report them all.
   */
  private async follow(keys: string[], how: 'map' | 'ask' | 'dropped'): Promise<void> {
    if (this.closed) return;
    const changed: string[] = [];
    await Promise.all(
      keys.map(async (key) => {
        const was = this.where.get(key);
        if (was === undefined) return;
        let start = was;
        if (how === 'map') {
          try {
            start = this.owner(key);
          } catch {
            return;
          }
          if (start === was) return;
        }
        try {
          const now = await this.place(key, start);
          if (!this.where.has(key)) return; // unsubscribed meanwhile
          if (now !== was) await this.conns.get(was)?.sunsubscribe(key).catch(() => {});
          this.placeKey(key, now);
          if (how === 'dropped' || now !== was) changed.push(key);
        } catch {
          // Retried on the next slot-map refresh.
        }
      }),
    );
    if (changed.length > 0) this.resubscribed(changed);
  }

  private connFor(node: string): Redis {
    let conn = this.conns.get(node);
    if (conn) return conn;
    const colon = node.lastIndexOf(':');
    conn = new Redis({
      ...this.auth,
      host: node.slice(0, colon),
      port: Number(node.slice(colon + 1)),
      enableOfflineQueue: true, // the first SSUBSCRIBE waits for the connection it opens
      maxRetriesPerRequest: 1,
      autoResubscribe: false,
      retryStrategy: (times) => (this.closed ? null : Math.min(50 * 2 ** Math.min(times, 6), 2000)),
    });
    this.conns.set(node, conn);
    let lost = false;
    conn.on('error', () => {});
    conn.on('smessage', (key: string, msg: string) => this.messages(key, msg));
    // The server unsubscribes us itself when a slot leaves this primary.
    conn.on('moved', () => {
      this.cluster.refreshSlotsCache();
      void this.follow(this.keysOn(node), 'ask');
    });
    conn.on('close', () => {
      lost = true;
      this.events.emit('close');
      this.cluster.refreshSlotsCache();
    });
    conn.on('ready', () => {
      if (lost) void this.follow(this.keysOn(node), 'dropped');
      lost = false;
      if (this.ready()) this.events.emit('ready');
    });
    return conn;
  }

  private keysOn(node: string): string[] {
    const keys: string[] = [];
    for (const [key, where] of this.where) if (where === node) keys.push(key);
    return keys;
  }
}
