/**
 * Client → server WebSocket frames (RFC 6455 §5), parsed by hand: a push of
 * socket bytes in, whole messages and control frames out, in order.
 *
 * It keeps `ws`'s rules and close codes (docs/protocol.md, "Close codes"):
 * - 1002: a reserved bit set (no extension is ever agreed), an unknown
 *   opcode, a continuation with no message begun or a new message inside
 *   one, an unmasked frame, a fragmented or oversize control frame, a close
 *   frame of one byte or with a code no endpoint may send;
 * - 1007: a text message or close reason that is not UTF-8;
 * - 1008: more fragments in one message than `maxFragments`;
 * - 1009: a message over `maxMessageBytes`, judged from the frame headers
 *   before a byte of its payload is buffered.
 * After a fault it reports nothing more.
 *
 * Memory: a frame that arrives in one read is unmasked where it lies and
 * handed on as a view, with no copy. A frame split across reads is copied
 * into one buffer of its exact size, known from its header, so a client
 * trickling bytes costs one copy of each byte and holds at most one message
 * (`maxMessageBytes`) plus one header.
 */
import { isUtf8 } from 'node:buffer';

/** What the receiver reports. Every call happens inside `push`. */
export interface FrameHandler {
  /** A whole text message, UTF-8 checked. */
  onText(data: Buffer): void;
  onBinary(data: Buffer): void;
  onPing(data: Buffer): void;
  /** The client's Close: its code (1005 when it gave none) and reason. Nothing is reported after it. */
  onCloseFrame(code: number, reason: Buffer): void;
  /** The client broke the protocol: close with `code`. Nothing is reported after it. */
  onFault(code: number, message: string): void;
}

export interface ReceiverLimits {
  maxMessageBytes: number;
  maxFragments: number;
}

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
/** The longest frame header a client sends: 2 bytes, a 64-bit length, a 4-byte mask. */
const MAX_HEADER = 14;
const EMPTY = Buffer.alloc(0);

/** A close code a peer may put on the wire (RFC 6455 §7.4, as `ws` checks it). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** A parsed frame header: where the payload starts and how long it is. */
interface Header {
  fin: boolean;
  opcode: number;
  /** Offset of the 4-byte mask from the frame's start; the payload follows it. */
  maskAt: number;
  length: number;
}

class Fault {
  constructor(
    readonly code: number,
    readonly message: string,
  ) {}
}

export class WsReceiver {
  /** The opcode of the fragmented message in progress, or 0. */
  private messageOpcode = 0;
  private fragments: Buffer[] = [];
  private messageBytes = 0;
  /** Bytes of a frame (or of a header) that a read cut short. */
  private carry: Buffer | undefined;
  private carried = 0;
  /** The carried frame's full size once its header is known, else 0 (the carry holds part of a header). */
  private carryTotal = 0;
  private done = false;
  private readonly header: Header = { fin: false, opcode: 0, maskAt: 0, length: 0 };

  constructor(
    private readonly handler: FrameHandler,
    private readonly limits: ReceiverLimits,
  ) {}

  /** Whether a Close or a fault ended the stream. */
  get ended(): boolean {
    return this.done;
  }

  push(chunk: Buffer): void {
    if (this.done) return;
    let data = chunk;
    if (this.carry) {
      const rest = this.fillCarry(chunk);
      if (rest === undefined) return;
      data = rest;
    }
    this.parse(data);
  }

  /** Add the read to the carried bytes. Once the carried frame is whole it is handled here; returns the rest of the read to parse, or undefined while the frame is short or after the stream ended. */
  private fillCarry(chunk: Buffer): Buffer | undefined {
    const carry = this.carry!;
    if (this.carryTotal === 0) {
      // Part of a header (at most 13 bytes): join it to the new read and parse afresh. That copies the read once,
      // so even a client that splits every header costs time linear in what it sends.
      this.carry = undefined;
      return Buffer.concat([carry.subarray(0, this.carried), chunk]);
    }
    const take = Math.min(chunk.length, this.carryTotal - this.carried);
    chunk.copy(carry, this.carried, 0, take);
    this.carried += take;
    if (this.carried < this.carryTotal) return undefined;
    this.carry = undefined;
    if (!this.frameAt(carry, 0)) return undefined;
    return take === chunk.length ? EMPTY : chunk.subarray(take);
  }

  private parse(buf: Buffer): void {
    let at = 0;
    while (at < buf.length && !this.done) {
      const size = this.frameSize(buf, at);
      if (size < 0) return this.done ? undefined : this.keep(buf, at, 0);
      if (size > buf.length - at) return this.keep(buf, at, size);
      if (!this.frameAt(buf, at)) return;
      at += size;
    }
  }

  /** Keep the bytes from `at` on until the rest of their frame (`total` bytes, or 0: a header still short) arrives. */
  private keep(buf: Buffer, at: number, total: number): void {
    const have = buf.length - at;
    this.carry = Buffer.allocUnsafe(total === 0 ? MAX_HEADER : total);
    buf.copy(this.carry, 0, at);
    this.carried = have;
    this.carryTotal = total;
  }

  /**
   * The full size of the frame at `at`, or -1 when its header is not all
   * there yet. Checks what the header alone can tell; a fault ends the stream
   * (`done`) and returns -1 too.
   */
  private frameSize(buf: Buffer, at: number): number {
    try {
      const h = this.readHeader(buf, at);
      return h ? h.maskAt + 4 + h.length : -1;
    } catch (err) {
      if (!(err instanceof Fault)) throw err;
      this.fail(err.code, err.message);
      return -1;
    }
  }

  /** Parse and check the header at `at` into this.header; undefined when it is not complete. Changes no other state. */
  private readHeader(buf: Buffer, at: number): Header | undefined {
    const avail = buf.length - at;
    if (avail < 2) return undefined;
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    if ((b0 & 0x70) !== 0) throw new Fault(1002, 'reserved bits must be clear');
    const fin = (b0 & 0x80) !== 0;
    const opcode = this.checkOpcode(b0 & 0x0f, fin);
    if ((b1 & 0x80) === 0) throw new Fault(1002, 'client frames must be masked');
    const len7 = b1 & 0x7f;
    const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    if (avail < 2 + ext + 4) return undefined;
    let length = len7;
    if (ext === 2) length = buf.readUInt16BE(at + 2);
    else if (ext === 8) length = longLength(buf, at + 2);
    if (opcode >= OP_CLOSE) checkControl(opcode, length);
    else if (this.messageBytes + length > this.limits.maxMessageBytes) throw new Fault(1009, 'message too big');
    const h = this.header;
    h.fin = fin;
    h.opcode = opcode;
    h.maskAt = 2 + ext;
    h.length = length;
    return h;
  }

  /** The frame's opcode, checked against the message in progress. */
  private checkOpcode(opcode: number, fin: boolean): number {
    if (opcode === OP_CONTINUATION) {
      if (this.messageOpcode === 0) throw new Fault(1002, 'continuation with no message begun');
      return opcode;
    }
    if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (this.messageOpcode !== 0) throw new Fault(1002, 'new message inside a fragmented one');
      return opcode;
    }
    if (opcode === OP_CLOSE || opcode === OP_PING || opcode === OP_PONG) {
      if (!fin) throw new Fault(1002, 'control frames may not be fragmented');
      return opcode;
    }
    throw new Fault(1002, `unknown opcode ${opcode}`);
  }

  /** Handle the whole frame at `at`, whose header frameSize just read into this.header. False when the stream ended. */
  private frameAt(buf: Buffer, at: number): boolean {
    const h = this.header;
    const start = at + h.maskAt + 4;
    const payload = h.length === 0 ? EMPTY : buf.subarray(start, start + h.length);
    unmask(payload, buf, at + h.maskAt);
    if (h.opcode >= OP_CLOSE) this.control(h.opcode, payload);
    else this.data(h.opcode, h.fin, payload);
    return !this.done;
  }

  private data(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode === OP_CONTINUATION) opcode = this.messageOpcode;
    if (fin && this.fragments.length === 0) return this.message(opcode, payload);
    if (this.fragments.length >= this.limits.maxFragments) return this.fail(1008, 'too many fragments');
    // A view into a socket read would pin that read's whole buffer while the message is assembled.
    this.fragments.push(Buffer.from(payload));
    this.messageBytes += payload.length;
    this.messageOpcode = opcode;
    if (!fin) return;
    const whole = Buffer.concat(this.fragments, this.messageBytes);
    this.fragments = [];
    this.messageBytes = 0;
    this.messageOpcode = 0;
    this.message(opcode, whole);
  }

  private message(opcode: number, payload: Buffer): void {
    if (opcode === OP_BINARY) return this.handler.onBinary(payload);
    if (!isUtf8(payload)) return this.fail(1007, 'text is not UTF-8');
    this.handler.onText(payload);
  }

  private control(opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) return this.handler.onPing(payload);
    if (opcode === OP_PONG) return;
    if (payload.length === 0) return this.closed(1005, EMPTY);
    const code = payload.readUInt16BE(0);
    if (!isValidCloseCode(code)) return this.fail(1002, `invalid close code ${code}`);
    const reason = payload.subarray(2);
    if (!isUtf8(reason)) return this.fail(1007, 'close reason is not UTF-8');
    this.closed(code, reason);
  }

  private closed(code: number, reason: Buffer): void {
    this.end();
    this.handler.onCloseFrame(code, reason);
  }

  private fail(code: number, message: string): void {
    this.end();
    this.handler.onFault(code, message);
  }

  private end(): void {
    this.done = true;
    this.fragments = [];
    this.carry = undefined;
  }
}

/** A 64-bit payload length; past 2^53 - 1 it cannot be a number, and it is far past any limit anyway. */
function longLength(buf: Buffer, at: number): number {
  const high = buf.readUInt32BE(at);
  if (high > 0x1fffff) throw new Fault(1009, 'frame length beyond 2^53 - 1');
  return high * 2 ** 32 + buf.readUInt32BE(at + 4);
}

function checkControl(opcode: number, length: number): void {
  if (length > 125) throw new Fault(1002, 'control frame over 125 bytes');
  if (opcode === OP_CLOSE && length === 1) throw new Fault(1002, 'close frame of one byte');
}

/** XOR the payload in place with the 4-byte mask at `buf[maskAt]`. */
function unmask(payload: Buffer, buf: Buffer, maskAt: number): void {
  const m0 = buf[maskAt]!;
  const m1 = buf[maskAt + 1]!;
  const m2 = buf[maskAt + 2]!;
  const m3 = buf[maskAt + 3]!;
  if ((m0 | m1 | m2 | m3) === 0) return;
  const n = payload.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    payload[i] = payload[i]! ^ m0;
    payload[i + 1] = payload[i + 1]! ^ m1;
    payload[i + 2] = payload[i + 2]! ^ m2;
    payload[i + 3] = payload[i + 3]! ^ m3;
  }
  if (i < n) payload[i] = payload[i]! ^ m0;
  if (i + 1 < n) payload[i + 1] = payload[i + 1]! ^ m1;
  if (i + 2 < n) payload[i + 2] = payload[i + 2]! ^ m2;
}
