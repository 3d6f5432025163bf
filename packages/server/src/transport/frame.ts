/**
 * Server → client WebSocket framing (RFC 6455 §5.2), done by hand so one
 * publication is framed once and the same bytes go to every subscriber.
 * Server frames are never masked; permessage-deflate is off.
 */

/** One unfragmented text frame holding `text`, in a single buffer. */
export function wsTextFrame(text: string): Buffer {
  const len = Buffer.byteLength(text);
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(head + len);
  buf[0] = 0x81; // FIN + opcode 1 (text)
  if (head === 2) {
    buf[1] = len;
  } else if (head === 4) {
    buf[1] = 126;
    buf.writeUInt16BE(len, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(0, 2);
    buf.writeUInt32BE(len, 6);
  }
  buf.write(text, head, 'utf8');
  return buf;
}

/**
 * A push shared by many connections: JSON encoded once, and framed once per
 * transport kind on first use.
 */
export class SharedFrame {
  private ws?: Buffer;
  constructor(readonly json: string) {}

  wsBytes(): Buffer {
    return (this.ws ??= wsTextFrame(this.json));
  }
}
