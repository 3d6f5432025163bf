/**
 * Wire frames of protocol version 1 (docs/protocol.md). Every frame is one JSON
 * object in one WebSocket text message.
 *
 * Client → server: commands `{id, method, params}`; `pong` alone carries no id.
 * Server → client: replies `{id, result}` / `{id, error}`, and pushes `{type, …}`
 * which never carry an id.
 */

export const PROTOCOL_VERSION = 1;

/** Position in a channel's stream. Offsets are dense integers from 1 within an epoch. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/** Who published (absent for publications from the HTTP API). */
export interface ClientInfo {
  user: string;
  client: string;
  /** The `info` claim of the publisher's token, if any. */
  info?: unknown;
}

export interface Publication<T = unknown> {
  channel: string;
  offset: number;
  epoch: string;
  data: T;
  info?: ClientInfo;
  /** Server time of publication, ms since the epoch. */
  time: number;
}

// ---------------------------------------------------------------- commands

export interface SubscribeParams {
  channel: string;
  /** Recover everything published after this position. */
  since?: StreamPosition;
  /** Anything the app's subscribe hook should see (docs/backends.md); the gateway does not read it. */
  data?: unknown;
  /** Ask for at most one publication every this many ms, the latest (a conflatable namespace only; at least its interval). */
  conflate?: number;
  /** Ask for publications as deltas against the previous one (docs/protocol.md, "Delta compression"). */
  delta?: boolean;
}

export interface ConnectParams {
  token?: string;
  /** Client library name and version, for logs. */
  name?: string;
  version?: string;
  protocol?: number;
  /** Channels to (re)subscribe in the same round trip, each with its last position. */
  subs?: SubscribeParams[];
  /** Positions of server-side subscriptions (personal channel) to recover. */
  serverSubs?: Record<string, StreamPosition>;
  /** Anything the app's connect hook should see (docs/backends.md); the gateway does not read it. */
  data?: unknown;
}

export interface PublishParams {
  channel: string;
  data: unknown;
}

export interface HistoryParams {
  channel: string;
  limit?: number;
  since?: StreamPosition;
}

export interface ChannelParams {
  channel: string;
}

export interface RefreshParams {
  token: string;
}

export interface RpcParams {
  method: string;
  data?: unknown;
  /** Ask for partial results: `{id, chunk}` replies come before the final one. */
  stream?: boolean;
  /** `data` is bytes (a Uint8Array once decoded): base64 text in a text frame, raw in a binary frame. */
  binary?: boolean;
}

/**
 * An ephemeral signal on a channel the client is subscribed to (typing, "is
 * looking at this"): delivered to the other subscribers at once, never stored,
 * no offset, not part of recovery (docs/protocol.md, "Signals").
 */
export interface SignalParams {
  channel: string;
  /** Any JSON; `null` with a `key` clears that key at once. */
  data: unknown;
  /** Names a state the sender holds (e.g. "typing"): the server clears it after `ttl`, or when the sender leaves. */
  key?: string;
  /** Milliseconds a keyed signal lasts unless sent again (default and cap from the server's `signals` config). */
  ttl?: number;
}

/** Stop an RPC in flight: its handler's AbortSignal fires and no more chunks are sent. */
export interface CancelParams {
  /** The id of the `rpc` command to cancel. */
  id: number;
}

export interface CommandMap {
  connect: ConnectParams;
  subscribe: SubscribeParams;
  unsubscribe: ChannelParams;
  publish: PublishParams;
  presence: ChannelParams;
  history: HistoryParams;
  refresh: RefreshParams;
  rpc: RpcParams;
  cancel: CancelParams;
  signal: SignalParams;
}
export type Method = keyof CommandMap;

export type Command = {
  [M in Method]: { id: number; method: M; params: CommandMap[M] };
}[Method];

export interface PongCommand {
  method: 'pong';
}

export type ClientFrame = Command | PongCommand;

// ---------------------------------------------------------------- results

export interface SubscribeResult {
  channel: string;
  /** Current stream position after any recovered publications. */
  epoch: string;
  offset: number;
  /** The channel keeps history, so a later resubscribe can recover. */
  recoverable: boolean;
  /** `since` was given. */
  wasRecovering: boolean;
  /** Every publication after `since` is in `publications`; false means reload your state. */
  recovered: boolean;
  publications: Publication[];
  /** The subscription may be conflated, at most one publication every this many ms: offsets may jump (not a loss). */
  conflate?: number;
  /** Publications may come as deltas (`delta` instead of `data`). */
  delta?: boolean;
}

export interface SubscribeFailure {
  channel: string;
  error: ErrorBody;
}

export interface ConnectResult {
  client: string;
  user: string;
  protocol: number;
  /** Server ping interval and pong timeout, in seconds. */
  ping: number;
  pong: number;
  /** Seconds until the token expires, if it has `exp`. */
  ttl?: number;
  subs: Array<SubscribeResult | SubscribeFailure>;
  /** Server-side subscriptions (the user's personal channel). */
  serverSubs: SubscribeResult[];
  /** SSE only: the secret that binds `POST /sse/command` to this stream. */
  session?: string;
}

export interface PresenceEntry {
  client: string;
  user: string;
  info?: unknown;
}

export interface PresenceResult {
  clients: PresenceEntry[];
}

export interface HistoryResult {
  epoch: string;
  offset: number;
  publications: Publication[];
}

export interface RefreshResult {
  ttl?: number;
}

export interface RpcResult {
  data: unknown;
  /** `data` is bytes (see RpcParams.binary). */
  binary?: boolean;
}

export interface ResultMap {
  connect: ConnectResult;
  subscribe: SubscribeResult;
  unsubscribe: Record<string, never>;
  publish: StreamPosition;
  presence: PresenceResult;
  history: HistoryResult;
  refresh: RefreshResult;
  rpc: RpcResult;
  cancel: Record<string, never>;
  signal: Record<string, never>;
}

export interface ErrorBody {
  code: number;
  message: string;
  temporary?: boolean;
}

/**
 * A reply ends its command with `result` or `error`. A streamed RPC first gets
 * any number of partial replies carrying `chunk` (with `binary: true` when the
 * chunk is bytes), in the order the handler produced them.
 */
export type Reply =
  | { id: number; result: unknown; error?: undefined; chunk?: undefined }
  | { id: number; error: ErrorBody; result?: undefined; chunk?: undefined }
  | ChunkReply;

export interface ChunkReply {
  id: number;
  chunk: unknown;
  binary?: boolean;
  result?: undefined;
  error?: undefined;
}

// ---------------------------------------------------------------- pushes

/**
 * A publication push. On a `delta: true` subscription it may carry `delta`
 * (a TextDelta against the previous publication's data) instead of `data`.
 */
export interface PubPush extends Publication {
  type: 'pub';
  delta?: Array<number | string>;
}
export interface JoinPush {
  type: 'join';
  channel: string;
  info: PresenceEntry;
}
export interface LeavePush {
  type: 'leave';
  channel: string;
  info: PresenceEntry;
}
/**
 * An ephemeral signal from another connection (or, without `info`, from the
 * HTTP API). `cleared: true` (with `data: null`) ends the sender's keyed
 * signal: it sent null, its ttl passed, or it left the channel.
 */
export interface SignalPush {
  type: 'signal';
  channel: string;
  data: unknown;
  info?: ClientInfo;
  key?: string;
  /** Milliseconds until the server clears this keyed signal. */
  ttl?: number;
  cleared?: boolean;
}

/** The server ended a subscription. `resubscribe` says whether to subscribe again. */
export interface UnsubPush {
  type: 'unsub';
  channel: string;
  code: number;
  reason: string;
  resubscribe: boolean;
}
/** Sent right before the server closes the connection with the same code. */
export interface DisconnectPush {
  type: 'disconnect';
  code: number;
  reason: string;
  reconnect: boolean;
}
export interface PingPush {
  type: 'ping';
}
/** The token expires in `ttl` seconds: call `refresh` with a new one. */
export interface RefreshPush {
  type: 'refresh';
  ttl: number;
}
/** A frame that could not be read as a command (no id to reply to). */
export interface ErrorPush {
  type: 'error';
  error: ErrorBody;
}

export type Push = PubPush | JoinPush | LeavePush | SignalPush | UnsubPush | DisconnectPush | PingPush | RefreshPush | ErrorPush;

export type ServerFrame = Reply | Push;
