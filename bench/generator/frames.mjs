/**
 * Minimal WebSocket framing for the load generator (RFC 6455 §5.2). Server
 * frames arrive unmasked and are only located, never copied; client frames
 * must be masked, but the generator sends only a few (handshake commands,
 * pongs), so masking them in JS costs nothing measurable.
 */
import { randomBytes } from 'node:crypto';

export const OP_TEXT = 1;
export const OP_CLOSE = 8;
export const OP_PING = 9;
export const OP_PONG = 10;

/** A masked client frame carrying `payload` (string or Buffer). */
export function clientFrame(payload, opcode = OP_TEXT) {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = data.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + len);
  out[0] = 0x80 | opcode;
  if (head === 2) out[1] = 0x80 | len;
  else if (head === 4) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  mask.copy(out, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = data[i] ^ mask[i & 3];
  return out;
}

/**
 * Incremental parser for server frames. `push(chunk)` calls
 * `onFrame(opcode, buf, start, end)` for each complete frame; a partial frame
 * is kept until the next chunk completes it.
 */
export class FrameParser {
  rest = null;

  constructor(onFrame) {
    this.onFrame = onFrame;
  }

  push(chunk) {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let pos = 0;
    const n = buf.length;
    while (pos + 2 <= n) {
      let len = buf[pos + 1] & 0x7f;
      let head = 2;
      if (len === 126) {
        if (pos + 4 > n) break;
        len = buf.readUInt16BE(pos + 2);
        head = 4;
      } else if (len === 127) {
        if (pos + 10 > n) break;
        len = buf.readUInt32BE(pos + 2) * 2 ** 32 + buf.readUInt32BE(pos + 6);
        head = 10;
      }
      if (pos + head + len > n) break;
      this.onFrame(buf[pos] & 0x0f, buf, pos + head, pos + head + len);
      pos += head + len;
    }
    // Copy: the chunk may be the shared read buffer, reused by the next read.
    if (pos < n) this.rest = Buffer.from(buf.subarray(pos));
  }
}
