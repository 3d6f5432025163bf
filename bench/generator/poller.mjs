/**
 * A browser-like polling client: one keep-alive TCP connection, GET every
 * `intervalMs`, one request in flight, with the headers a browser sends to
 * its own backend (user agent, accept, cookie…). Counts requests and bytes.
 */
import { connect } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

const browserHeaders = (host) =>
  [
    `Host: ${host}`,
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Accept: application/json',
    'Accept-Language: en-US,en;q=0.9',
    'Accept-Encoding: gzip, deflate, br',
    `Referer: http://${host}/jobs`,
    'Cookie: session=3f9a1c0e7b5d4e2a9c8f6b1d0e7a5c3b',
    'Connection: keep-alive',
  ].join('\r\n');

export class Poller {
  requests = 0;
  timer = null;
  buf = null;

  constructor({ host, port, path, intervalMs, onBody }) {
    Object.assign(this, { host, port, path, intervalMs, onBody });
    this.request = `GET ${path} HTTP/1.1\r\n${browserHeaders(`${host}:${port}`)}\r\n\r\n`;
  }

  open(localAddress) {
    return new Promise((resolve, reject) => {
      this.socket = connect({ host: this.host, port: this.port, localAddress, noDelay: true }, resolve);
      this.socket.once('error', reject);
      this.socket.on('data', (c) => this.onData(c));
    });
  }

  /** Poll every intervalMs from now + phaseMs, until stop(). */
  start(phaseMs) {
    const poll = () => {
      this.requests++;
      this.socket.write(this.request);
    };
    this.timer = setTimeout(() => {
      poll();
      this.timer = setInterval(poll, this.intervalMs);
    }, phaseMs);
  }

  onData(chunk) {
    let buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const end = buf.indexOf(HEADER_END);
      if (end < 0) break;
      const length = Number(CONTENT_LENGTH.exec(buf.toString('latin1', 0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + length) break;
      this.onBody(buf.toString('utf8', end + 4, end + 4 + length));
      buf = buf.subarray(end + 4 + length);
    }
    this.buf = buf.length ? buf : null;
  }

  stop() {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    this.bytes = { in: this.socket.bytesRead, out: this.socket.bytesWritten };
    this.socket.destroy();
  }
}
