/**
 * The broker: each channel's stream (offsets, epochs, history) and the
 * fan-out of its publications and presence events to every node that holds
 * the channel. It never sees a client; it hands what arrives to the node's
 * BrokerHandler (the hub).
 *
 * Contract every broker keeps (test/engine-contract.ts checks it):
 * - `publish` appends to the channel's stream and fans out atomically per
 *   channel: offsets are dense (1, 2, 3…) within an epoch and the handler sees
 *   a channel's publications in offset order, each once, on every node that
 *   called `subscribe(channel)`.
 * - A stream that is lost (expired meta, flushed store) restarts at offset 1
 *   under a new epoch; an epoch never repeats.
 * - With history off for the channel, publications carry offset 0 and epoch
 *   "" (unpositioned) and nothing is stored.
 * - `history` returns publications with offset > `sinceOffset`, oldest first,
 *   at most `limit`, together with the stream's current top position. The
 *   caller decides whether that is a complete recovery.
 * - A repeated idempotency key within the window returns the first result and
 *   publishes nothing.
 * - Join and leave events and signals reach the handler of every node holding
 *   the channel, at most once. They are not part of the stream: no offset,
 *   nothing stored, nothing to recover.
 * - When the broker may have missed publications of a channel (its link to
 *   the store dropped and came back), it calls `onResync(channel)`.
 */
import type { ClientInfo, PresenceEntry, StreamPosition } from '@tidings/protocol';

/** A publication as the server handles it: `data` stays the raw JSON text it arrived as. */
export interface ServerPublication {
  channel: string;
  offset: number;
  epoch: string;
  /** JSON text of the payload (already validated). */
  data: string;
  info?: ClientInfo;
  time: number;
  /** Cache of the encoded push frame, filled by the hub on first use. */
  encoded?: string;
}

export interface HistoryPolicy {
  /** Publications kept; 0 means no history. */
  size: number;
  ttlMs: number;
}

export interface PublishOptions {
  history: HistoryPolicy;
  info?: ClientInfo;
  idempotencyKey?: string;
}

export interface HistoryQuery {
  /** Return publications after this offset (0: from the oldest kept). */
  sinceOffset?: number;
  /** Most publications to return; 0 returns none, only the position. */
  limit?: number;
  /**
   * The channel's history policy. When given, a missing stream is created
   * (new epoch, offset 0), so a subscriber gets a real position even before
   * the first publication and can recover from it later.
   */
  policy?: HistoryPolicy;
}

export interface HistoryResult {
  publications: ServerPublication[];
  position: StreamPosition;
}

/** What the broker calls on the node (the hub implements it). */
export interface BrokerHandler {
  onPublication(pub: ServerPublication): void;
  /**
   * The broker may have missed publications of `channel`: subscribers must
   * recover from their own positions.
   */
  onResync(channel: string): void;
  onJoin(channel: string, info: PresenceEntry): void;
  onLeave(channel: string, info: PresenceEntry): void;
  /** An ephemeral signal; `frameJson` is its push frame, `from` the sending client's id ('' for the API). */
  onSignal(channel: string, from: string, frameJson: string): void;
}

export interface Broker {
  /** This node wants publications of `channel` (called on the first local subscriber). */
  subscribe(channel: string): Promise<void>;
  /** No local subscriber left. */
  unsubscribe(channel: string): Promise<void>;
  publish(channel: string, data: string, opts: PublishOptions): Promise<StreamPosition>;
  history(channel: string, query: HistoryQuery): Promise<HistoryResult>;
  publishJoin(channel: string, info: PresenceEntry): Promise<void>;
  publishLeave(channel: string, info: PresenceEntry): Promise<void>;
  /** Fan out a signal's push frame; rejects with EngineUnavailable when the store cannot be reached. */
  publishSignal(channel: string, from: string, frameJson: string): Promise<void>;
}
