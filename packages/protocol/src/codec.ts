/**
 * Strict decoding of frames read from the network. Anything that is not a
 * well-formed frame becomes a ProtocolError with the error code to answer
 * with; nothing here throws anything else, whatever the input.
 */
import { ErrorCode } from './codes.js';
import type { ClientFrame, Command, ServerFrame, StreamPosition, SubscribeParams } from './frames.js';

export const MAX_CHANNEL_LENGTH = 255;
const CHANNEL_RE = /^[A-Za-z0-9_.:#,@=\-/]+$/;
const MAX_ID = 2 ** 31 - 1;
const MAX_SUBS = 1024;

export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** The command id, when the frame got far enough to have one. */
    readonly id?: number,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function isValidChannel(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_CHANNEL_LENGTH && CHANNEL_RE.test(name);
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string, id?: number): never {
  throw new ProtocolError(ErrorCode.BadRequest, message, id);
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
      `${key} must be 1–${MAX_CHANNEL_LENGTH} characters of A-Z a-z 0-9 _ . : # , @ = - /`,
      id,
    );
  }
  return v;
}

export function position(v: unknown, id: number, where: string): StreamPosition {
  if (!isObject(v)) bad(`${where} must be {offset, epoch}`, id);
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
      if (!isObject(s)) bad('params.subs[] must be objects', id);
      return subscribeParams(s, id);
    });
  }
  if (p.serverSubs !== undefined) {
    if (!isObject(p.serverSubs)) bad('params.serverSubs must be an object', id);
    const entries = Object.entries(p.serverSubs);
    if (entries.length > MAX_SUBS) bad('params.serverSubs has too many entries', id);
    params.serverSubs = {};
    for (const [ch, pos] of entries) {
      if (!isValidChannel(ch)) bad('params.serverSubs has an invalid channel name', id);
      params.serverSubs[ch] = position(pos, id, 'params.serverSubs[]');
    }
  }
  return { id, method: 'connect', params };
}

function limit(p: Obj, id: number): number | undefined {
  const v = p.limit;
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad('params.limit must be a non-negative integer', id);
  return v;
}

function command(id: number, method: string, p: Obj): Command {
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
      return { id, method, params: { channel: channel(p, id), data: p.data } };
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
    case 'rpc': {
      const m = optString(p, 'method', id, 128);
      if (!m) bad('params.method is required', id);
      return { id, method, params: { method: m, data: p.data } };
    }
    default:
      throw new ProtocolError(ErrorCode.MethodNotFound, `unknown method ${JSON.stringify(method.slice(0, 32))}`, id);
  }
}

/** Decode one client frame (the text of a WebSocket message or a POSTed body). */
export function decodeClientFrame(text: string): ClientFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    bad('frame is not valid JSON');
  }
  if (!isObject(raw)) bad('frame must be a JSON object');
  const { id, method, params } = raw;
  if (method === 'pong' && id === undefined) return { method: 'pong' };
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_ID) {
    bad(`id must be an integer from 1 to ${MAX_ID}`);
  }
  if (typeof method !== 'string') bad('method must be a string', id);
  if (params !== undefined && !isObject(params)) bad('params must be an object', id);
  return command(id, method, params ?? {});
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
  if (!isObject(raw)) bad('server frame must be a JSON object');
  if (typeof raw.id === 'number' || typeof raw.type === 'string') return raw as unknown as ServerFrame;
  bad('server frame has neither id nor type');
}
