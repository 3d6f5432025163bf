/**
 * Tidings pushes read as Pusher frames. A publication or signal is parsed
 * once, and its Pusher bytes are built once per variant (plain, or followed
 * by the extension's `tidings:position`), cached on its SharedFrame: every
 * Pusher subscriber gets the same bytes, as every native one does.
 *
 * The event a publication carries: data of the form `{"event": string,
 * "data": any}` (what the Pusher API and client events store) is that event;
 * any other data (a native publisher's) is the event `message` with the
 * whole data.
 */
import type { ClientInfo, PresenceEntry, StreamPosition } from '@tidings/protocol';
import type { SharedFrame } from '../wire/shared-frame.js';
import { wsTextFrame } from '../wire/ws-frame.js';
import { dataText, encodeEvent, encodePosition } from './frames.js';

export const DEFAULT_EVENT = 'message';

/** A publication or signal, as a Pusher event on one Tidings channel. */
export class PusherEvent {
  private plain?: Buffer;
  private positioned?: Buffer;

  constructor(
    readonly channel: string,
    readonly event: string,
    readonly data: string,
    /** The publisher's connection (a Pusher trigger's `socket_id`): it does not get the event. */
    readonly exclude: string | undefined,
    /** Set for presence signals (client events): Pusher names the sender. */
    readonly userId: string | undefined,
    readonly position: StreamPosition | undefined,
  ) {}

  /** The frame bytes for subscribers of Pusher channel `name` (the same name for every subscriber of `channel`). */
  bytes(name: string, withPosition: boolean): Buffer {
    if (!withPosition || !this.position) return (this.plain ??= wsTextFrame(this.json(name)));
    return (this.positioned ??= Buffer.concat([this.bytes(name, false), wsTextFrame(encodePosition(name, this.position))]));
  }

  json(name: string, userId = this.userId): string {
    return encodeEvent(this.event, name, this.data, userId);
  }
}

export interface PresenceChange {
  readonly type: 'join' | 'leave';
  readonly channel: string;
  readonly entry: PresenceEntry;
}

export type Translated = PusherEvent | PresenceChange | null;

const cache = new WeakMap<SharedFrame, Translated>();

/** What a shared frame means to a Pusher socket (null: nothing), parsed once per frame. */
export function translate(frame: SharedFrame): Translated {
  let t = cache.get(frame);
  if (t === undefined) cache.set(frame, (t = parse(frame.json)));
  return t;
}

interface PushJson {
  type?: string;
  channel?: string;
  offset?: number;
  epoch?: string;
  data?: unknown;
  info?: ClientInfo | PresenceEntry;
  cleared?: boolean;
}

function parse(json: string): Translated {
  const push = JSON.parse(json) as PushJson;
  const { type, channel } = push;
  if (typeof channel !== 'string') return null;
  if (type === 'join' || type === 'leave') return push.info ? { type, channel, entry: push.info } : null;
  if (type === 'pub') return eventOf(push, channel, true);
  if (type === 'signal' && !push.cleared) return eventOf(push, channel, false);
  return null;
}

/** A stored publication (history, recovery) as a Pusher event. */
export function publicationEvent(pub: { channel: string; offset: number; epoch: string; data: unknown; info?: ClientInfo }): PusherEvent {
  return eventOf({ ...pub, type: 'pub' }, pub.channel, true);
}

function eventOf(push: PushJson, channel: string, isPublication: boolean): PusherEvent {
  const { event, data } = splitEvent(push.data);
  const info = push.info;
  const position = isPublication && push.offset ? { offset: push.offset, epoch: push.epoch ?? '' } : undefined;
  // A publication names its publisher only to exclude it; a client event names its sender (presence channels show it).
  const exclude = isPublication ? info?.client : undefined;
  const userId = !isPublication && info?.user && isPresence(channel) ? info.user : undefined;
  return new PusherEvent(channel, event, data, exclude, userId, position);
}

function isPresence(channel: string): boolean {
  const colon = channel.indexOf(':');
  return colon > 0 && channel.slice(0, colon).endsWith('.presence');
}

/** `{"event", "data"}` → that event; anything else → `message` with the whole value. */
export function splitEvent(value: unknown): { event: string; data: string } {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = value as { event?: unknown; data?: unknown };
    if (typeof v.event === 'string' && v.event.length > 0) return { event: v.event, data: dataText(v.data) };
  }
  return { event: DEFAULT_EVENT, data: dataText(value) };
}
