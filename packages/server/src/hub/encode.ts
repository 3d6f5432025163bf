/**
 * JSON encoding of server frames by string assembly: a publication's `data` is
 * kept as the JSON text it arrived as, so it is never parsed or re-serialized
 * on the way out. Channel names are validated to a charset that needs no
 * escaping.
 */
import type { ErrorBody, PresenceEntry } from '@tidings/protocol';
import type { ServerPublication } from '../engine/engine.js';

/** The publication's push frame; cached on the publication (history shares it). */
export function encodePub(pub: ServerPublication): string {
  if (pub.encoded !== undefined) return pub.encoded;
  let s = `{"type":"pub","channel":"${pub.channel}","offset":${pub.offset},"epoch":${JSON.stringify(pub.epoch)},"data":${pub.data}`;
  if (pub.info) s += `,"info":${JSON.stringify(pub.info)}`;
  s += `,"time":${pub.time}}`;
  pub.encoded = s;
  return s;
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
