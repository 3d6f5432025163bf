/**
 * A publication's text: its push frame (docs/protocol.md, "pub"), built by
 * string assembly with `data` kept as the JSON text it arrived as. It lives
 * here, below the wire layer, because the embedded broker keeps exactly this
 * text as its history entry (broker-memory-stream.ts); wire/encode.ts sends
 * the same text, so a publication is encoded once, whoever needs it first.
 */
import type { ServerPublication } from './broker.js';

/** Where `data` and `info` sit in a text: [dataStart, dataEnd, infoStart, infoEnd], info -1 when absent. */
export const SPAN_FIELDS = 4;

/** The publication's text, cached on it; `spans` (from `at`) gets where its data and info are. */
export function publicationText(pub: ServerPublication, spans?: Float64Array, at = 0): string {
  if (pub.encoded !== undefined && spans === undefined) return pub.encoded;
  const head = `{"type":"pub","channel":"${pub.channel}","offset":${pub.offset},"epoch":${JSON.stringify(pub.epoch)},"data":`;
  let s = head + pub.data;
  const dataEnd = s.length;
  let infoStart = -1;
  let infoEnd = -1;
  if (pub.info) {
    s += ',"info":';
    infoStart = s.length;
    s += JSON.stringify(pub.info);
    infoEnd = s.length;
  }
  s += `,"time":${pub.time}}`;
  if (spans !== undefined) {
    spans[at] = head.length;
    spans[at + 1] = dataEnd;
    spans[at + 2] = infoStart;
    spans[at + 3] = infoEnd;
  }
  pub.encoded = s;
  return s;
}
