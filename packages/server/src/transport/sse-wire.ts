/**
 * What the SSE transport reads from and writes to HTTP, as pure functions
 * (fuzzed in test/sse-wire.property.test.ts): the `connect` query, the
 * Last-Event-ID positions, the POSTed command batch, and the event ids.
 *
 * Event id: every publication event (and every reply that moves a position)
 * carries `id: {"<channel>":[<offset>,"<epoch>"],…}`, the positions of all
 * the stream's subscriptions. The browser keeps the last id it saw and sends
 * it back as Last-Event-ID when it reconnects, so any node can resume every
 * subscription from there, the way a WebSocket client resumes with `since`.
 */
import { ErrorCode, type JsonObject, type ProtocolError, type StreamPosition, isJsonObject, isValidChannel, parseJsonObject, position } from '@tidings/protocol';
import { HttpError } from '../http/json.js';

/** Frames one POST may carry. */
export const MAX_BATCH = 100;
/** Channels a Last-Event-ID may name (the decoder's limit for connect.subs). */
const MAX_RESUME = 1024;
const SESSION_KEY_RE = /^[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{16,64}$/;

type Obj = JsonObject;

function badRequest(message: string): HttpError {
  return new HttpError(400, ErrorCode.BadRequest, message);
}

/** One channel's part of an event id, cached per channel so an id costs a join. */
export function idFragment(channel: string, pos: StreamPosition): string {
  return `${JSON.stringify(channel)}:[${pos.offset},${JSON.stringify(pos.epoch)}]`;
}

export function eventId(fragments: Iterable<string>): string {
  return `{${[...fragments].join(',')}}`;
}

/** Positions named by a Last-Event-ID header; a malformed one is a 400, never a silent fresh start. */
export function parseLastEventId(header: string | undefined): Map<string, StreamPosition> {
  const out = new Map<string, StreamPosition>();
  if (header === undefined || header === '') return out;
  const raw = parseJsonObject(header);
  if (!raw) throw badRequest('Last-Event-ID is not a Tidings event id');
  const entries = Object.entries(raw);
  if (entries.length > MAX_RESUME) throw badRequest('Last-Event-ID names too many channels');
  for (const [channel, v] of entries) {
    if (!isValidChannel(channel) || !Array.isArray(v) || v.length !== 2) throw badRequest('Last-Event-ID has a malformed entry');
    try {
      out.set(channel, position({ offset: v[0], epoch: v[1] }, 0, 'Last-Event-ID'));
    } catch (err) {
      throw badRequest((err as ProtocolError).message);
    }
  }
  return out;
}

/** The `connect` query parameter: JSON of ConnectParams (checked later, like any connect command). */
export function parseConnectQuery(value: string | null): Obj {
  if (value === null || value === '') return {};
  const raw = parseJsonObject(value);
  if (!raw) throw badRequest('connect: must be a JSON object of connect params');
  return raw;
}

/**
 * Connect params with the resumed positions laid over them: a channel named by
 * Last-Event-ID is (re)subscribed from its position, whether or not the
 * original URL listed it; the personal channel goes to serverSubs (connect
 * ignores entries there that are not server-side subscriptions).
 */
export function withResume(params: Obj, resume: Map<string, StreamPosition>): Obj {
  if (resume.size === 0) return params;
  const subs: unknown[] = Array.isArray(params.subs) ? params.subs.filter((s) => !(isJsonObject(s) && resume.has(s.channel as string))) : [];
  const serverSubs: Obj = isJsonObject(params.serverSubs) ? { ...params.serverSubs } : {};
  for (const [channel, since] of resume) {
    subs.push({ channel, since });
    Object.defineProperty(serverSubs, channel, { value: since, enumerable: true, writable: true, configurable: true });
  }
  return { ...params, subs, serverSubs };
}

/** `POST /sse/command` body: `{session, frames: [command, …]}`. */
export function parseCommandBody(body: unknown): { session: string; frames: unknown[] } {
  if (!isJsonObject(body)) throw badRequest('body must be {session, frames}');
  const { session, frames } = body;
  if (typeof session !== 'string' || !SESSION_KEY_RE.test(session)) throw badRequest('session: not a session key');
  if (!Array.isArray(frames) || frames.length === 0 || frames.length > MAX_BATCH) {
    throw badRequest(`frames: must be an array of 1 to ${MAX_BATCH} commands`);
  }
  return { session, frames };
}

/** A cookie's value from a Cookie header (first match), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}
