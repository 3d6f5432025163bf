/**
 * Open-loop HTTP publisher. Publications are due on a fixed schedule
 * (t0 + i/rate) whatever the server does, and each carries its *scheduled*
 * time, so a stalled server or generator shows up as latency instead of a
 * quietly slower send rate (coordinated omission). Requests are pipelined on a
 * few keep-alive raw TCP sockets per endpoint; responses are only parsed for
 * status and length. With `batch` set, publications go `batch` at a time in
 * one `POST /api/batch`, each request due at the end of its group's tick,
 * the time every publication in it carries (a worker reporting per tick).
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
   * @param {number} [o.batch]  publications per `POST /api/batch`; 0: one `POST /api/publish` each
   */
  constructor({ endpoints, apiKey, socketsPerEndpoint = 4, maxInFlight = 20_000, batch = 0 }) {
    this.endpoints = endpoints;
    this.batch = batch;
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
  queue(body, path) {
    const s = this.sockets[this.next];
    this.next = (this.next + 1) % this.sockets.length;
    path ??= s.endpoint.apiPath ?? '/api/publish';
    s.queue(
      `POST ${path} HTTP/1.1\r\nHost: ${s.endpoint.host}\r\nAuthorization: apikey ${this.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  flush() {
    for (const s of this.sockets) s.flush();
  }

  /** Publications per request. */
  get perRequest() {
    return this.batch || 1;
  }

  /** Queue publications `seq` … `seq + n - 1`, all stamped `us`: one request, batched or not. */
  queueGroup(seq, n, us, makeBody) {
    if (!this.batch) return this.queue(makeBody(seq, us));
    const items = Array.from({ length: n }, (_, i) => makeBody(seq + i, us));
    this.queue(`{"publications":[${items.join(',')}]}`, '/api/batch');
  }

  /**
   * Publish `count` bodies at `rate` per second, open loop. `makeBody(seq,
   * scheduledUs)` builds each one. Stops early (overloaded) if more than
   * maxInFlight requests are unanswered.
   */
  async run({ rate, count, makeBody }) {
    await this.open();
    const t0 = performance.now();
    const per = this.perRequest;
    const requests = Math.ceil(count / per);
    const interval = (1000 * per) / rate; // between requests
    // A batch goes out at the end of its tick, so `count` publications span count / rate seconds either way.
    const lead = this.batch ? 1 : 0;
    const slot = (k) => t0 + (k + lead) * interval;
    let k = 0;
    let maxLagMs = 0;
    let overloaded = false;
    while (k < requests) {
      const now = performance.now();
      const due = Math.min(requests, Math.max(0, Math.floor((now - t0) / interval) + 1 - lead));
      if (k < due) maxLagMs = Math.max(maxLagMs, now - slot(k));
      for (; k < due; k++) this.queueGroup(k * per, Math.min(per, count - k * per), Math.round(slot(k) * 1000), makeBody);
      this.flush();
      if (this.inFlight > this.maxInFlight) {
        overloaded = true;
        break;
      }
      if (k < requests) await sleep(Math.min(1, Math.max(0, slot(k) - performance.now())));
    }
    return { sent: Math.min(count, k * per), seconds: (performance.now() - t0) / 1000, maxLagMs, overloaded };
  }

  /**
   * Closed loop, for capacity rather than latency: keep `inFlight` requests
   * unanswered for `seconds`, sending the next as soon as one is answered.
   * Counts publications (`inFlight` requests of `batch` each when batched).
   */
  async saturate({ seconds, inFlight, makeBody }) {
    await this.open();
    const t0 = performance.now();
    const per = this.perRequest;
    let seq = 0;
    while (performance.now() - t0 < seconds * 1000) {
      for (; this.inFlight < inFlight; seq += per) this.queueGroup(seq, per, Math.round(performance.now() * 1000), makeBody);
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
