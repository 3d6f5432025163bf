/**
 * Pusher protocol 7 frames (pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol):
 * the strict parser of what a client sends, and the encoders of what the
 * server sends. An event's `data` travels as a JSON string inside the JSON
 * frame ("double encoding"); clients may send theirs as an object or a string.
 */
import type { StreamPosition } from '@tidings/protocol';
import { isPusherChannel } from './names.js';

export type PusherFrame =
  | { kind: 'ping' }
  | { kind: 'pong' }
  | { kind: 'subscribe'; channel: string; auth?: string; channelData?: string; since?: StreamPosition; positions: boolean }
  | { kind: 'unsubscribe'; channel: string }
  | { kind: 'signin'; auth: string; userData: string }
  | { kind: 'client'; event: string; channel: string; data: unknown };

/** A frame this server cannot take; the socket stays open and gets a `pusher:error`. */
export class PusherFrameError extends Error {}

const MAX_EVENT_NAME = 200;
const MAX_EPOCH = 64;

function fail(message: string): never {
  throw new PusherFrameError(message);
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      fail(`${what} is not JSON`);
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`${key} must be a string`);
  return v;
}

function channelOf(o: Record<string, unknown>): string {
  const c = o.channel;
  if (!isPusherChannel(c)) fail('channel must be 1–164 of A-Z a-z 0-9 _ - = @ , . ;');
  return c;
}

/** The opt-in recovery position (`tidings_since`), docs/pusher-compatibility.md. */
function sinceOf(o: Record<string, unknown>): StreamPosition | undefined {
  const s = o.tidings_since;
  if (s === undefined || s === null) return undefined;
  const p = record(s, 'tidings_since');
  const { offset, epoch } = p;
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) fail('tidings_since.offset must be a whole number');
  if (typeof epoch !== 'string' || epoch.length > MAX_EPOCH) fail('tidings_since.epoch must be a short string');
  return { offset: offset as number, epoch };
}

function subscribe(data: unknown): PusherFrame {
  const d = record(data, 'data');
  const since = sinceOf(d);
  const frame: PusherFrame = { kind: 'subscribe', channel: channelOf(d), positions: d.tidings_positions === true || since !== undefined };
  const auth = optionalString(d, 'auth');
  const channelData = optionalString(d, 'channel_data');
  if (auth !== undefined) frame.auth = auth;
  if (channelData !== undefined) frame.channelData = channelData;
  if (since) frame.since = since;
  return frame;
}

function signin(data: unknown): PusherFrame {
  const d = record(data, 'data');
  const auth = optionalString(d, 'auth');
  const userData = optionalString(d, 'user_data');
  if (auth === undefined || userData === undefined) fail('pusher:signin needs auth and user_data');
  return { kind: 'signin', auth, userData };
}

/** Parse one text frame; throws PusherFrameError with a message for the client. */
export function parsePusherFrame(text: string): PusherFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail('frame is not JSON');
  }
  const f = record(raw, 'frame');
  const { event } = f;
  if (typeof event !== 'string' || event.length === 0 || event.length > MAX_EVENT_NAME) fail(`event must be a string of 1–${MAX_EVENT_NAME} characters`);
  switch (event) {
    case 'pusher:ping':
      return { kind: 'ping' };
    case 'pusher:pong':
      return { kind: 'pong' };
    case 'pusher:subscribe':
      return subscribe(f.data);
    case 'pusher:unsubscribe':
      return { kind: 'unsubscribe', channel: channelOf(record(f.data, 'data')) };
    case 'pusher:signin':
      return signin(f.data);
  }
  if (!event.startsWith('client-')) fail(`unknown event ${event}`);
  return { kind: 'client', event, channel: channelOf(f), data: f.data ?? null };
}

// ------------------------------------------------------------ server frames

const str = JSON.stringify;

/** Event data as Pusher sends it: a string stays itself, anything else is JSON text. */
export function dataText(data: unknown): string {
  return typeof data === 'string' ? data : str(data ?? null);
}

export function encodeEvent(event: string, channel: string | undefined, data: string, userId?: string): string {
  const ch = channel === undefined ? '' : `,"channel":${str(channel)}`;
  const user = userId === undefined ? '' : `,"user_id":${str(userId)}`;
  return `{"event":${str(event)}${ch},"data":${str(data)}${user}}`;
}

export function encodeEstablished(socketId: string, activityTimeoutS: number): string {
  return encodeEvent('pusher:connection_established', undefined, str({ socket_id: socketId, activity_timeout: activityTimeoutS }));
}

/** `code` null: the socket stays open (as Pusher does for a refused frame). */
export function encodeError(code: number | null, message: string): string {
  return `{"event":"pusher:error","data":${str({ code, message })}}`;
}

export const PING = encodeEvent('pusher:ping', undefined, '{}');
export const PONG = encodeEvent('pusher:pong', undefined, '{}');

export function encodeSubscribed(channel: string, dataJson: string): string {
  return encodeEvent('pusher_internal:subscription_succeeded', channel, dataJson);
}

/** A refused subscription, in the shape pusher-js gives its own authorization errors. */
export function encodeSubscriptionError(channel: string, status: number, error: string): string {
  return encodeEvent('pusher:subscription_error', channel, str({ type: 'AuthError', error, status }));
}

export function encodeMemberAdded(channel: string, userId: string, userInfo: unknown): string {
  return encodeEvent('pusher_internal:member_added', channel, str({ user_id: userId, user_info: userInfo ?? {} }));
}

export function encodeMemberRemoved(channel: string, userId: string): string {
  return encodeEvent('pusher_internal:member_removed', channel, str({ user_id: userId }));
}

export function encodeSigninSuccess(userData: string): string {
  return encodeEvent('pusher:signin_success', undefined, str({ user_data: userData }));
}

/** The extension's position after an event (only to subscriptions that asked, `tidings_positions`). */
export function encodePosition(channel: string, pos: StreamPosition, recovered?: boolean): string {
  const extra = recovered === undefined ? '' : `,"recovered":${recovered}`;
  return encodeEvent('tidings:position', channel, `{"offset":${pos.offset},"epoch":${str(pos.epoch)}${extra}}`);
}
