/**
 * Strict decoding of frames read from the network. Anything that is not a
 * well-formed frame becomes a ProtocolError with the error code to answer
 * with; nothing here throws anything else, whatever the input.
 */
import { base64ToBytes, splitBinaryFrame } from './binary.js';
import { ErrorCode } from './codes.js';
import { type JsonObject, MAX_JSON_DEPTH, isJsonObject, jsonDeeperThan } from './json.js';
import { ProtocolError } from './errors.js';
import type { ClientFrame, Command, RpcParams, ServerFrame, SignalParams, StreamPosition, SubscribeParams } from './frames.js';

export { ProtocolError };

export const MAX_CHANNEL_LENGTH = 255;
const CHANNEL_RE = /^[A-Za-z0-9_.:#,@=\-/]+$/;
const MAX_ID = 2 ** 31 - 1;
const MAX_SUBS = 1024;
/** A signal key names a state (e.g. "typing"); short and plain, since it is echoed to every subscriber. */
const SIGNAL_KEY_RE = /^[A-Za-z0-9_.:\-]{1,64}$/;
const MAX_SIGNAL_TTL = 86_400_000;
/** The longest conflation interval a subscriber may ask for (an hour). */
export const MAX_CONFLATE = 3_600_000;

/** Which channel names are allowed, in words, for error messages. */
export const CHANNEL_RULE = `1–${MAX_CHANNEL_LENGTH} characters of A-Z a-z 0-9 _ . : # , @ = - /`;

export function isValidChannel(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_CHANNEL_LENGTH && CHANNEL_RE.test(name);
}

type Obj = JsonObject;


function bad(message: string, id?: number): never {
  throw new ProtocolError(ErrorCode.BadRequest, message, id);
}

/** `params.data`, refused when it nests deeper than can be stored and read back. */
function data(p: Obj, id: number): unknown {
  if (jsonDeeperThan(p.data)) bad(`params.data nests deeper than ${MAX_JSON_DEPTH} levels`, id);
  return p.data;
}

function optString(p: Obj, key: string, id: number, max = 8192): string | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > max) bad(`params.${key} must be a string of at most ${max} characters`, id);
  return v;
}

function channel(p: Obj, id: number, key = 'channel'): string {
  const v = p[key];
  if (!isValidChannel(v)) {
    throw new ProtocolError(
      ErrorCode.UnknownChannel,
      `${key} must be ${CHANNEL_RULE}`,
      id,
    );
  }
  return v;
}

export function position(v: unknown, id: number, where: string): StreamPosition {
  if (!isJsonObject(v)) bad(`${where} must be {offset, epoch}`, id);
  const { offset, epoch } = v;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    bad(`${where}.offset must be a non-negative integer`, id);
  }
  if (typeof epoch !== 'string' || epoch.length > 64) bad(`${where}.epoch must be a string of at most 64 characters`, id);
  return { offset, epoch };
}

function subscribeParams(p: Obj, id: number): SubscribeParams {
  const out: SubscribeParams = { channel: channel(p, id) };
  if (p.since !== undefined) out.since = position(p.since, id, 'params.since');
  if (p.data !== undefined) out.data = p.data;
  if (p.conflate !== undefined) {
    if (typeof p.conflate !== 'number' || !Number.isInteger(p.conflate) || p.conflate < 0 || p.conflate > MAX_CONFLATE) {
      bad(`params.conflate must be an integer number of ms from 0 to ${MAX_CONFLATE}`, id);
    }
    if (p.conflate > 0) out.conflate = p.conflate;
  }
  if (optBoolean(p, 'delta', id)) out.delta = true;
  return out;
}

function connectParams(p: Obj, id: number): Command {
  const params: Extract<Command, { method: 'connect' }>['params'] = {};
  const token = optString(p, 'token', id);
  if (token !== undefined) params.token = token;
  const name = optString(p, 'name', id, 64);
  if (name !== undefined) params.name = name;
  const version = optString(p, 'version', id, 64);
  if (version !== undefined) params.version = version;
  if (p.protocol !== undefined) {
    if (typeof p.protocol !== 'number' || !Number.isInteger(p.protocol)) bad('params.protocol must be an integer', id);
    params.protocol = p.protocol;
  }
  if (p.subs !== undefined) {
    if (!Array.isArray(p.subs) || p.subs.length > MAX_SUBS) bad(`params.subs must be an array of at most ${MAX_SUBS}`, id);
    params.subs = p.subs.map((s) => {
      if (!isJsonObject(s)) bad('params.subs[] must be objects', id);
      return subscribeParams(s, id);
    });
  }
  if (p.serverSubs !== undefined) {
    if (!isJsonObject(p.serverSubs)) bad('params.serverSubs must be an object', id);
    const entries = Object.entries(p.serverSubs);
    if (entries.length > MAX_SUBS) bad('params.serverSubs has too many entries', id);
    params.serverSubs = {};
    for (const [ch, pos] of entries) {
      if (!isValidChannel(ch)) bad('params.serverSubs has an invalid channel name', id);
      params.serverSubs[ch] = position(pos, id, 'params.serverSubs[]');
    }
  }
  // Opaque to the gateway: handed to the connect hook as it came.
  if (p.data !== undefined) params.data = p.data;
  return { id, method: 'connect', params };
}

function limit(p: Obj, id: number): number | undefined {
  const v = p.limit;
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad('params.limit must be a non-negative integer', id);
  return v;
}

function commandId(v: unknown, where: string, id?: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_ID) bad(`${where} must be an integer from 1 to ${MAX_ID}`, id);
  return v;
}

function optBoolean(p: Obj, key: string, id: number): boolean {
  const v = p[key];
  if (v !== undefined && typeof v !== 'boolean') bad(`params.${key} must be a boolean`, id);
  return v === true;
}

/** `rpc` params; `attachment` is the payload of a binary frame, which stands for `data`. */
function rpcParams(p: Obj, id: number, attachment: Uint8Array | undefined): RpcParams {
  const method = optString(p, 'method', id, 128);
  if (!method) bad('params.method is required', id);
  const params: RpcParams = { method, data: data(p, id) };
  if (optBoolean(p, 'stream', id)) params.stream = true;
  const binary = optBoolean(p, 'binary', id);
  if (attachment !== undefined) {
    if (!binary || p.data !== null) bad('a binary frame needs params.binary true and params.data null', id);
    params.data = attachment;
  } else if (binary) {
    if (typeof p.data !== 'string') bad('params.data must be base64 text when params.binary is true', id);
    params.data = base64ToBytes(p.data, id);
  }
  if (binary) params.binary = true;
  return params;
}

function signalParams(p: Obj, id: number): SignalParams {
  if (!('data' in p)) bad('params.data is required', id);
  const params: SignalParams = { channel: channel(p, id), data: data(p, id) };
  if (p.key !== undefined) {
    if (typeof p.key !== 'string' || !SIGNAL_KEY_RE.test(p.key)) bad('params.key must be 1–64 characters of A-Z a-z 0-9 _ . : -', id);
    params.key = p.key;
  }
  if (p.ttl !== undefined) {
    if (typeof p.ttl !== 'number' || !Number.isInteger(p.ttl) || p.ttl < 1 || p.ttl > MAX_SIGNAL_TTL) {
      bad(`params.ttl must be an integer number of ms from 1 to ${MAX_SIGNAL_TTL}`, id);
    }
    params.ttl = p.ttl;
  }
  if (params.data === null && params.key === undefined) bad('params.data may be null only with params.key (to clear it)', id);
  return params;
}

function command(id: number, method: string, p: Obj, attachment?: Uint8Array): Command {
  if (attachment !== undefined && method !== 'rpc') bad('binary frames carry rpc commands only', id);
  switch (method) {
    case 'connect':
      return connectParams(p, id);
    case 'subscribe':
      return { id, method, params: subscribeParams(p, id) };
    case 'unsubscribe':
    case 'presence':
      return { id, method, params: { channel: channel(p, id) } };
    case 'publish':
      if (!('data' in p)) bad('params.data is required', id);
      return { id, method, params: { channel: channel(p, id), data: data(p, id) } };
    case 'history': {
      const params: Extract<Command, { method: 'history' }>['params'] = { channel: channel(p, id) };
      const l = limit(p, id);
      if (l !== undefined) params.limit = l;
      if (p.since !== undefined) params.since = position(p.since, id, 'params.since');
      return { id, method, params };
    }
    case 'refresh': {
      const token = optString(p, 'token', id);
      if (!token) bad('params.token is required', id);
      return { id, method, params: { token } };
    }
    case 'rpc':
      return { id, method, params: rpcParams(p, id, attachment) };
    case 'cancel':
      return { id, method, params: { id: commandId(p.id, 'params.id', id) } };
    case 'signal':
      return { id, method, params: signalParams(p, id) };
    default:
      throw new ProtocolError(ErrorCode.MethodNotFound, `unknown method ${JSON.stringify(method.slice(0, 32))}`, id);
  }
}

/** Decode one client frame (the text of a WebSocket message). */
export function decodeClientFrame(text: string): ClientFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    bad('frame is not valid JSON');
  }
  return decodeClientValue(raw);
}

/** Decode a client frame that is already parsed JSON (one entry of a POSTed batch). */
export function decodeClientValue(raw: unknown, attachment?: Uint8Array): ClientFrame {
  if (!isJsonObject(raw)) bad('frame must be a JSON object');
  const { id, method, params } = raw;
  if (method === 'pong' && id === undefined && attachment === undefined) return { method: 'pong' };
  const cid = commandId(id, 'id');
  if (typeof method !== 'string') bad('method must be a string', cid);
  if (params !== undefined && !isJsonObject(params)) bad('params must be an object', cid);
  return command(cid, method, params ?? {}, attachment);
}

/** Decode a binary WebSocket message: an `rpc` command whose data is the raw bytes after its JSON. */
export function decodeBinaryClientFrame(frame: Uint8Array): ClientFrame {
  const { header, payload } = splitBinaryFrame(frame);
  return decodeClientValue(header, payload);
}

/** Encode a command for sending (client side). */
export function encodeCommand(cmd: ClientFrame): string {
  return JSON.stringify(cmd);
}

/** Decode a server frame (client side). Light checks: the server is trusted to follow its protocol. */
export function decodeServerFrame(text: string): ServerFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    bad('server frame is not valid JSON');
  }
  return serverFrame(raw, undefined);
}

/**
 * Decode a binary server frame: a reply whose `chunk` or `result.data` is the
 * payload. Base64 payloads of text frames are decoded the same way, so the
 * application always gets a Uint8Array for bytes.
 */
export function decodeBinaryServerFrame(frame: Uint8Array): ServerFrame {
  const { header, payload } = splitBinaryFrame(frame);
  return serverFrame(header, payload);
}

function serverFrame(raw: unknown, attachment: Uint8Array | undefined): ServerFrame {
  if (!isJsonObject(raw)) bad('server frame must be a JSON object');
  if (typeof raw.id === 'number') attachBytes(raw, attachment);
  else if (typeof raw.type !== 'string' || attachment !== undefined) bad('server frame has neither id nor type');
  return raw as unknown as ServerFrame;
}

/** Put the bytes of a binary reply (raw attachment or base64 text) where the payload belongs. */
function attachBytes(reply: Obj, attachment: Uint8Array | undefined): void {
  const holder = reply.binary === true && 'chunk' in reply ? reply : isJsonObject(reply.result) && reply.result.binary === true ? reply.result : undefined;
  const key = holder === reply ? 'chunk' : 'data';
  if (!holder) {
    if (attachment !== undefined) bad('binary reply without a binary payload field');
    return;
  }
  if (attachment !== undefined) holder[key] = attachment;
  else if (typeof holder[key] === 'string') holder[key] = base64ToBytes(holder[key]);
  else bad('binary payload must be base64 text');
}
