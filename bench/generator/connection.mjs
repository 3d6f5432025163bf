/**
 * One raw-TCP WebSocket client: HTTP upgrade by hand, then server frames go
 * through FrameParser. Data frames (recognised by the protocol's prefix) go
 * straight to the sink; everything else (replies, pings) to the protocol
 * adapter. No per-frame allocation on the data path.
 */
import { connect } from 'node:net';
import { FrameParser, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, clientFrame } from './frames.mjs';
import { nowUs } from '../lib/payload.mjs';

const HEADER_END = Buffer.from('\r\n\r\n');
const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='; // any 16-byte base64 value; the generator does not check the accept hash
/**
 * One read buffer shared by every connection (net's `onread`): reads are
 * handled synchronously one at a time, and anything kept past a callback is
 * copied, so no Buffer is allocated per read and the readable-stream
 * machinery is skipped.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export class WsConnection {
  /**
   * @param {object} o
   * @param {{host: string, port: number}} o.target
   * @param {object} o.protocol  adapter from protocols.mjs
   * @param {object} o.sink      receives onData(conn, buf, start, end) and onClose(conn)
   */
  constructor({ target, protocol, sink, index = 0, token = '', channel = '', since, sampled = false, localAddress }) {
    Object.assign(this, { target, protocol, sink, index, token, channel, since, sampled, localAddress });
    this.state = 'idle'; // idle → handshake → open → ready → closed
    this.chunkUs = 0; // arrival time of the chunk being parsed (sampled connections only)
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.framesOut = 0;
    this.parser = new FrameParser((op, buf, s, e) => this.onFrame(op, buf, s, e));
  }

  /** Connect, upgrade and let the protocol authenticate/subscribe. Resolves when ready. */
  open(timeoutMs = 20_000) {
    this.startedUs = nowUs();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error('open timed out')), timeoutMs);
      this.settle = (err, value) => {
        clearTimeout(timer);
        this.settle = null;
        if (err) reject(err);
        else resolve(value);
      };
      const { host, port } = this.target;
      const onread = { buffer: READ_BUFFER, callback: (n, buf) => this.onData(buf.subarray(0, n)) };
      this.socket = connect({ host, port, localAddress: this.localAddress, noDelay: true, onread });
      this.state = 'handshake';
      this.socket.on('connect', () => this.socket.write(this.upgradeRequest()));
      this.socket.on('error', (err) => this.fail(err));
      this.socket.on('close', () => this.onClose());
    });
  }

  upgradeRequest() {
    const { host, port } = this.target;
    return `GET ${this.protocol.path(this)} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  }

  onData(chunk) {
    if (this.state === 'handshake') return this.onHandshakeData(chunk);
    if (this.sampled) this.chunkUs = nowUs();
    this.sink.reads++;
    this.parser.push(chunk);
  }

  onHandshakeData(chunk) {
    this.head = this.head ? Buffer.concat([this.head, chunk]) : Buffer.from(chunk);
    const end = this.head.indexOf(HEADER_END);
    if (end < 0) return;
    const status = this.head.toString('latin1', 9, 12);
    if (status !== '101') return this.fail(new Error(`upgrade refused: HTTP ${status}`));
    const rest = this.head.subarray(end + 4);
    this.head = null;
    this.state = 'open';
    this.protocol.onOpen(this);
    if (rest.length) this.onData(rest);
  }

  onFrame(op, buf, s, e) {
    if (op === OP_TEXT) {
      if (this.protocol.isData(buf, s, e)) this.sink.onData(this, buf, s, e);
      else this.protocol.onControl(this, buf, s, e);
    } else if (op === OP_PING) this.socket.write(clientFrame(buf.subarray(s, e), OP_PONG));
    else if (op === OP_CLOSE) {
      this.closeCode = e - s >= 2 ? buf.readUInt16BE(s) : 0;
      this.socket.destroy();
    }
  }

  /** Send one masked text frame. */
  send(text) {
    if (this.state === 'closed') return;
    this.framesOut++;
    this.socket.write(clientFrame(text));
  }

  /** The protocol accepted us (subscribed, authenticated). */
  ready(value) {
    this.state = 'ready';
    this.readyUs = nowUs();
    this.settle?.(null, value);
  }

  fail(err) {
    this.error = err;
    if (this.settle) this.settle(err);
    this.socket?.destroy();
  }

  onClose() {
    if (this.state === 'closed') return;
    this.bytesIn = this.socket.bytesRead;
    this.bytesOut = this.socket.bytesWritten;
    this.state = 'closed';
    this.settle?.(this.error ?? new Error(`closed during open (code ${this.closeCode ?? 'none'})`));
    this.sink.onClose?.(this);
  }

  /** Cut the TCP connection at once (no close handshake), like a network drop. */
  destroy() {
    this.socket?.destroy();
  }

  /** Bytes on the wire so far (TCP payload, both directions). */
  wireBytes() {
    if (this.state === 'closed' || !this.socket) return { in: this.bytesIn, out: this.bytesOut };
    return { in: this.socket.bytesRead, out: this.socket.bytesWritten };
  }
}
