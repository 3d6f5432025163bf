/** Server-Sent Events framing: one server frame is one `data:` event. */

/**
 * One SSE event: `data:` line(s) and the blank line that ends the event.
 * JSON from JSON.stringify has no raw line breaks; a foreign one (engine
 * data) is split over several `data:` lines, which the reader joins with
 * "\n", a JSON whitespace, so the text still parses to the same value.
 */
export function sseDataEvent(json: string): Buffer {
  const body = /[\r\n]/.test(json) ? json.split(/\r\n|\r|\n/).join('\ndata: ') : json;
  return Buffer.from(`data: ${body}\n\n`);
}
