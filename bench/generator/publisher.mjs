/**
 * Open-loop HTTP publisher. Publications are due on a fixed schedule
 * (t0 + i/rate) whatever the server does, and each carries its *scheduled*
 * time, so a stalled server or generator shows up as latency instead of a
 * quietly slower send rate (coordinated omission). Requests are pipelined on a
 * few keep-alive raw TCP sockets per endpoint; responses are only parsed for
 * status and length.
 */
import { connect } from 'node:net';
import { sleep } from '../lib/sys.mjs';

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

class PipelinedSocket {
  inFlight = 0;
  buf = null;
  pendingOut = '';
  closed = true;

  constructor(endpoint, onResponse, onLost) {
    this.endpoint = endpoint;
    this.onResponse = onResponse;
    this.onLost = onLost;
  }

  /** (Re)connect. Servers close idle keep-alive sockets (Node: after 5 s), so each run reopens what was closed. */
  open() {
    if (!this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.endpoint.host, port: this.endpoint.port, noDelay: true }, () => {
        this.closed = false;
        resolve();
      });
      this.socket = socket;
      this.buf = null;
      socket.on('error', reject); // after connect: the 'close' below does the accounting
      socket.on('data', (chunk) => this.onData(chunk));
      socket.on('close', () => {
        this.closed = true;
        if (this.inFlight) this.onLost(this.inFlight);
        this.inFlight = 0;
      });
    });
  }

  queue(request) {
    this.inFlight++;
    this.pendingOut += request;
  }

  flush() {
    if (this.pendingOut && !this.closed) this.socket.write(this.pendingOut);
    else if (this.pendingOut) this.onLost(this.pendingOut.split('POST ').length - 1);
    this.pendingOut = '';
  }

  onData(chunk) {
    let buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const end = buf.indexOf(HEADER_END);
      if (end < 0) break;
      const head = buf.toString('latin1', 0, end);
      const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) break;
      const status = Number(head.slice(9, 12));
      this.inFlight--;
      this.onResponse(status, status >= 300 ? buf.toString('utf8', end + 4, end + 4 + length) : '');
      buf = buf.subarray(end + 4 + length);
    }
    this.buf = buf.length ? buf : null;
  }

  close() {
    this.socket?.destroy();
  }
}

export class HttpPublisher {
  ok = 0;
  failed = 0;
  lastError = '';

  /**
   * @param {object} o
   * @param {Array<{host: string, port: number, apiPath?: string}>} o.endpoints  publications go round-robin over these
   */
  constructor({ endpoints, apiKey, socketsPerEndpoint = 4, maxInFlight = 20_000 }) {
    this.endpoints = endpoints;
    this.apiKey = apiKey;
    this.maxInFlight = maxInFlight;
    const onResponse = (status, body) => {
      if (status >= 200 && status < 300) this.ok++;
      else {
        this.failed++;
        this.lastError = `${status} ${body.slice(0, 120)}`;
      }
    };
    const onLost = (n) => {
      this.failed += n;
      this.lastError = 'connection closed with requests in flight';
    };
    this.sockets = endpoints.flatMap((e) => Array.from({ length: socketsPerEndpoint }, () => new PipelinedSocket(e, onResponse, onLost)));
    this.next = 0;
  }

  async open() {
    await Promise.all(this.sockets.map((s) => s.open()));
  }

  get inFlight() {
    let n = 0;
    for (const s of this.sockets) n += s.inFlight;
    return n;
  }

  /** Queue one POST of `body` (JSON text); call flush() to send what was queued. */
  queue(body) {
    const s = this.sockets[this.next];
    this.next = (this.next + 1) % this.sockets.length;
    const path = s.endpoint.apiPath ?? '/api/publish';
    s.queue(
      `POST ${path} HTTP/1.1\r\nHost: ${s.endpoint.host}\r\nAuthorization: apikey ${this.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  flush() {
    for (const s of this.sockets) s.flush();
  }

  /**
   * Publish `count` bodies at `rate` per second, open loop. `makeBody(seq,
   * scheduledUs)` builds each one. Stops early (overloaded) if more than
   * maxInFlight requests are unanswered.
   */
  async run({ rate, count, makeBody }) {
    await this.open();
    const t0 = performance.now();
    const interval = 1000 / rate;
    let seq = 0;
    let maxLagMs = 0;
    let overloaded = false;
    while (seq < count) {
      const now = performance.now();
      const due = Math.min(count, Math.floor((now - t0) / interval) + 1);
      if (seq < due) maxLagMs = Math.max(maxLagMs, now - (t0 + seq * interval));
      for (; seq < due; seq++) this.queue(makeBody(seq, Math.round((t0 + seq * interval) * 1000)));
      this.flush();
      if (this.inFlight > this.maxInFlight) {
        overloaded = true;
        break;
      }
      if (seq < count) await sleep(Math.min(1, Math.max(0, t0 + seq * interval - performance.now())));
    }
    return { sent: seq, seconds: (performance.now() - t0) / 1000, maxLagMs, overloaded };
  }

  /**
   * Closed loop, for capacity rather than latency: keep `inFlight` requests
   * unanswered for `seconds`, sending the next as soon as one is answered.
   */
  async saturate({ seconds, inFlight, makeBody }) {
    await this.open();
    const t0 = performance.now();
    let seq = 0;
    while (performance.now() - t0 < seconds * 1000) {
      for (; this.inFlight < inFlight; seq++) this.queue(makeBody(seq, Math.round(performance.now() * 1000)));
      this.flush();
      await sleep(1);
    }
    return { sent: seq, seconds: (performance.now() - t0) / 1000 };
  }

  /** Wait (bounded) until every request has its response. */
  async drain(timeoutMs = 10_000) {
    const deadline = performance.now() + timeoutMs;
    while (this.inFlight > 0 && performance.now() < deadline) await sleep(5);
    return this.inFlight === 0;
  }

  close() {
    for (const s of this.sockets) s.close();
  }
}
