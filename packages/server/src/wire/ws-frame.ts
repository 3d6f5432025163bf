/**
 * Server → client WebSocket framing (RFC 6455 §5.2), done by hand so one
 * publication is framed once and the same bytes go to every subscriber.
 * Server frames are never masked; permessage-deflate is off.
 */

/** Allocate a frame of `len` payload bytes and write its header; returns the buffer and where the payload starts. */
function frameWithHeader(opcode: number, len: number): [Buffer, number] {
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(head + len);
  buf[0] = 0x80 | opcode; // FIN + opcode
  if (head === 2) {
    buf[1] = len;
  } else if (head === 4) {
    buf[1] = 126;
    buf.writeUInt16BE(len, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    buf.writeUInt32BE(len >>> 0, 6);
  }
  return [buf, head];
}

/** One unfragmented text frame holding `text`, in a single buffer. */
export function wsTextFrame(text: string): Buffer {
  const [buf, head] = frameWithHeader(0x1, Buffer.byteLength(text));
  buf.write(text, head, 'utf8');
  return buf;
}

/** The pong answering a client's ping (control frame: `data` is at most 125 bytes). */
export function wsPongFrame(data: Uint8Array): Buffer {
  const [buf, head] = frameWithHeader(0xa, data.length);
  buf.set(data, head);
  return buf;
}

/**
 * One binary frame in the layout of @tidings/protocol binary.ts
 * ([u32 length][JSON header][payload]), built with a single allocation.
 */
export function wsBinaryFrame(headerJson: string, payload: Uint8Array): Buffer {
  const hlen = Buffer.byteLength(headerJson);
  const [buf, head] = frameWithHeader(0x2, 4 + hlen + payload.length);
  buf.writeUInt32BE(hlen, head);
  buf.write(headerJson, head + 4, 'utf8');
  buf.set(payload, head + 4 + hlen);
  return buf;
}

/** Our Close frame: the code (none for a Close that had none) and a reason of at most 123 bytes. */
export function wsCloseFrame(code: number | undefined, reason: string): Buffer {
  if (code === undefined) return Buffer.from([0x88, 0]);
  let text = Buffer.from(reason, 'utf8');
  // A control frame carries at most 125 bytes: cut the reason before a UTF-8 continuation byte, never inside a character.
  if (text.length > 123) {
    let end = 123;
    while ((text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const [buf, head] = frameWithHeader(0x8, 2 + text.length);
  buf.writeUInt16BE(code, head);
  buf.set(text, head + 2);
  return buf;
}
