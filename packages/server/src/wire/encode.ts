/**
 * JSON encoding of server frames by string assembly: a publication's `data` is
 * kept as the JSON text it arrived as, so it is never parsed or re-serialized
 * on the way out. Channel names are validated to a charset that needs no
 * escaping. Every frame the server writes is built here (docs/protocol.md).
 */
import {
  type ClientInfo,
  type ErrorBody,
  PROTOCOL_VERSION,
  type PresenceEntry,
  type SubscribeResult,
  type TextDelta,
  shouldReconnect,
} from '@tidings/protocol';
import type { ServerPublication } from '../engine/broker.js';
import { publicationText } from '../engine/publication-text.js';

/** A subscribe's answer, as the hub prepared it: the reply's fields, with publications as the server holds them. */
export type SubscribeOutcome = Omit<SubscribeResult, 'publications'> & { publications: ServerPublication[] };

/** The publication's push frame; cached on the publication (the embedded history keeps the same text). */
export function encodePub(pub: ServerPublication): string {
  return publicationText(pub);
}

/** A publication's push frame with `delta` (protocol delta.ts) in place of `data`. */
export function encodeDeltaPub(pub: ServerPublication, delta: TextDelta): string {
  let s = `{"type":"pub","channel":"${pub.channel}","offset":${pub.offset},"epoch":${JSON.stringify(pub.epoch)},"delta":${JSON.stringify(delta)}`;
  if (pub.info) s += `,"info":${JSON.stringify(pub.info)}`;
  return s + `,"time":${pub.time}}`;
}

export function encodePubList(pubs: readonly ServerPublication[]): string {
  let s = '[';
  for (let i = 0; i < pubs.length; i++) s += (i ? ',' : '') + encodePub(pubs[i]!);
  return s + ']';
}

export function encodePresenceEvent(type: 'join' | 'leave', channel: string, info: PresenceEntry): string {
  return `{"type":"${type}","channel":"${channel}","info":${JSON.stringify(info)}}`;
}

export function encodeReply(id: number, resultJson: string): string {
  return `{"id":${id},"result":${resultJson}}`;
}

export function encodeError(id: number, error: ErrorBody): string {
  return `{"id":${id},"error":${JSON.stringify(error)}}`;
}

export function subscribeResultJson(o: SubscribeOutcome): string {
  return (
    `{"channel":"${o.channel}","epoch":${JSON.stringify(o.epoch)},"offset":${o.offset},"recoverable":${o.recoverable},` +
    `"wasRecovering":${o.wasRecovering},"recovered":${o.recovered},"publications":${encodePubList(o.publications)}` +
    (o.conflate ? `,"conflate":${o.conflate}` : '') +
    (o.delta ? ',"delta":true}' : '}')
  );
}

/** An `error` push: a frame that could not be read, so there is no id to answer. */
export function encodeErrorPush(error: ErrorBody): string {
  return `{"type":"error","error":${JSON.stringify(error)}}`;
}

export const PING_JSON = '{"type":"ping"}';

export function encodeRefresh(ttlSeconds: number): string {
  return `{"type":"refresh","ttl":${ttlSeconds}}`;
}

export function encodeDisconnect(code: number, reason: string): string {
  return `{"type":"disconnect","code":${code},"reason":${JSON.stringify(reason)},"reconnect":${shouldReconnect(code)}}`;
}

export function encodeUnsub(channel: string, code: number, reason: string, resubscribe: boolean): string {
  return `{"type":"unsub","channel":"${channel}","code":${code},"reason":${JSON.stringify(reason)},"resubscribe":${resubscribe}}`;
}

/** A signal's push frame. `info` is absent for signals from the HTTP API. */
export function encodeSignal(channel: string, dataJson: string, info: ClientInfo | undefined, key?: string, ttl?: number): string {
  let s = `{"type":"signal","channel":"${channel}","data":${dataJson}`;
  if (info) s += `,"info":${JSON.stringify(info)}`;
  if (key !== undefined) s += `,"key":"${key}","ttl":${ttl ?? 0}`;
  return s + '}';
}

/** The end of a sender's keyed signal: it cleared it, its ttl passed, or it left the channel. */
export function encodeSignalCleared(channel: string, key: string, info: ClientInfo): string {
  return `{"type":"signal","channel":"${channel}","data":null,"info":${JSON.stringify(info)},"key":"${key}","cleared":true}`;
}

/** What a connect reply says (docs/protocol.md, ConnectResult); a failed subscription carries its error. */
export interface ConnectReply {
  client: string;
  user: string;
  ping: number;
  pong: number;
  ttl?: number;
  subs: Array<SubscribeOutcome | { channel: string; error: ErrorBody }>;
  serverSubs: SubscribeOutcome[];
  session?: string;
}

export function encodeConnectResult(r: ConnectReply): string {
  let out = `{"client":${JSON.stringify(r.client)},"user":${JSON.stringify(r.user)},"protocol":${PROTOCOL_VERSION},"ping":${r.ping},"pong":${r.pong}`;
  if (r.ttl !== undefined) out += `,"ttl":${r.ttl}`;
  out += ',"subs":[';
  for (let i = 0; i < r.subs.length; i++) {
    const o = r.subs[i]!;
    out += (i > 0 ? ',' : '') + ('error' in o ? JSON.stringify(o) : subscribeResultJson(o));
  }
  out += '],"serverSubs":[';
  for (let i = 0; i < r.serverSubs.length; i++) out += (i > 0 ? ',' : '') + subscribeResultJson(r.serverSubs[i]!);
  out += ']';
  if (r.session !== undefined) out += `,"session":${JSON.stringify(r.session)}`;
  return `${out}}`;
}
