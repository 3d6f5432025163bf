/**
 * The engine: broker (fan-out between nodes), history (per-channel streams)
 * and presence. It never sees a client; it hands publications to the node's
 * EngineHandler (the hub), which delivers them to local connections.
 *
 * Contract every engine keeps (test/engine-contract.ts checks it):
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
 * - Presence entries live until removed, or until their TTL passes without a
 *   refresh (so a dead node leaves no ghosts).
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

/** Node-to-node messages (disconnect a user wherever connected, …). */
export type ControlMessage =
  | { kind: 'disconnectUser'; user: string; code: number; reason: string }
  | { kind: 'unsubscribeUser'; user: string; channel: string }
  /** SSE commands POSTed to a node that does not hold the stream: the node holding `session` runs them. */
  | { kind: 'sseCommand'; session: string; frames: unknown[] };

/** What a node tells the others about itself. */
export interface NodeInfo {
  id: string;
  address: string;
  connections: number;
  users: number;
  channels: number;
  uptime: number;
  /** ms since the epoch when this was recorded. */
  updated: number;
}

/** Thrown by engines when their store is unreachable: API 503, client error 113 (retry later). */
export class EngineUnavailable extends Error {
  readonly code = 113;
  constructor(message = 'engine unavailable') {
    super(message);
    this.name = 'EngineUnavailable';
  }
}

export interface EngineHandler {
  onPublication(pub: ServerPublication): void;
  /**
   * The engine may have missed publications of `channel` (its subscription
   * to the store dropped and came back): subscribers must recover from their
   * own positions.
   */
  onResync(channel: string): void;
  onJoin(channel: string, info: PresenceEntry): void;
  onLeave(channel: string, info: PresenceEntry): void;
  onControl(msg: ControlMessage): void;
}

export interface Engine {
  /** Attach the node's handler and connect; resolves when ready to serve. */
  start(handler: EngineHandler): Promise<void>;
  /** This node wants publications of `channel` (called on the first local subscriber). */
  subscribe(channel: string): Promise<void>;
  /** No local subscriber left. */
  unsubscribe(channel: string): Promise<void>;
  publish(channel: string, data: string, opts: PublishOptions): Promise<StreamPosition>;
  history(channel: string, query: HistoryQuery): Promise<HistoryResult>;
  publishJoin(channel: string, info: PresenceEntry): Promise<void>;
  publishLeave(channel: string, info: PresenceEntry): Promise<void>;
  publishControl(msg: ControlMessage): Promise<void>;
  addPresence(channel: string, entry: PresenceEntry): Promise<void>;
  removePresence(channel: string, client: string): Promise<void>;
  presence(channel: string): Promise<PresenceEntry[]>;
  /** Whether the engine can serve right now (false while its store is unreachable). */
  ready(): boolean;
  /** Record this node in the shared registry (engines that span nodes). */
  announce?(node: NodeInfo): Promise<void>;
  /** Every live node, this one included. */
  nodes?(): Promise<NodeInfo[]>;
  close(): Promise<void>;
}
