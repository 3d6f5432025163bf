/**
 * One keep-alive connection on the fast lane: requests are parsed from the
 * socket's bytes, answered in the order they came (pipelined or not), and
 * the answers ready at once are written in one call. The first request the
 * lane does not take (see request.ts), or one that stays incomplete too
 * long, hands the connection to node:http with its unread bytes, once every
 * earlier answer has been written, so the client sees one ordered stream of
 * answers whoever wrote them.
 */
import type { Socket } from 'node:net';
import { HttpError } from '../json.js';
import { type Answer, answerBytes, errorAnswer } from './answer.js';
import { Parsed, RequestHead, type RequestLimits, parseRequest } from './request.js';
import { type UpgradeHead, parseUpgrade } from './upgrade.js';

/** What the lane needs from whoever answers requests and owns the connections. */
export interface LaneHost {
  readonly limits: RequestLimits;
  readonly keepAliveSeconds: number;
  /** The answer to a request: a JSON value, or a promise of one; a refusal throws or rejects. */
  answer(head: RequestHead, body: string): unknown;
  /** Whether the request's answer is known to be small (a publish's position), so many may be pending at once. */
  smallAnswer(head: RequestHead): boolean;
  /** A refusal that was not an HttpError (a bug): answered 500, reported here. */
  failed(err: unknown): void;
  /** A WebSocket upgrade, the connection's first request: the socket is the upgrade listener's now, `rest` what followed the head. */
  upgrade(socket: Socket, head: UpgradeHead, rest: Buffer): void;
  /** Give the socket, with its unread bytes put back, to node:http. */
  toNode(socket: Socket): void;
  forget(connection: LaneConnection): void;
}

/**
 * Requests taken and not yet answered on one connection before it stops
 * taking more. Deep enough that a pipelining publisher keeps the node busy
 * while its publications wait on a Redis round trip: with 32, 8 connections
 * capped a node on Redis at 256 / latency publications/s, well below its CPU.
 */
const MAX_WAITING = 256;
/**
 * Of those, pending requests whose answer may be large (history, presence,
 * a batch's list): what a pipelining client can make the node hold is this
 * many such answers (each bounded by the configuration) plus HIGH_WATER.
 */
const MAX_WAITING_LARGE = 32;
/** Answer bytes unsent on one connection, ready ones behind a pending answer included, before it stops taking requests (node:http's is the socket's 16 KiB high-water mark). */
const HIGH_WATER = 64 * 1024;
/** Body bytes of the requests one connection has taken and not answered, before it stops taking more (one larger request is still taken alone). */
const MAX_PENDING_BODY_BYTES = 1024 * 1024;
/** How long a refused client has to read its answer before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** One request's place in the order of answers. */
interface Slot {
  answer: Answer | undefined;
  /** Counted in `largePending` until answered. */
  large: boolean;
  /** What the slot counts in `pendingBodyBytes` (its request's body, until answered) or `readyBytes` (its answer, once ready). */
  bytes: number;
}

/** Reused by every connection: a request is parsed and dispatched before the next one is looked at. */
const head = new RequestHead();
const upgradeHead: UpgradeHead = { target: '', headers: {} };

export class LaneConnection {
  /** When the connection last received bytes (Date.now()). */
  lastActive = Date.now();
  /** When the incomplete request in `rest` began arriving; 0 when there is none. */
  partialSince = 0;
  /** Bytes of a request not all here yet. */
  private rest: Buffer | null = null;
  /** Answers in request order whose first is not ready (a promise still pending). */
  private readonly waiting: Slot[] = [];
  /** Body bytes of the requests in `waiting` whose answer is pending. */
  private pendingBodyBytes = 0;
  /** Bytes of the ready answers in `waiting`, behind a pending one. */
  private readyBytes = 0;
  /** Pending requests in `waiting` whose answer may be large. */
  private largePending = 0;
  /** Ready answers not yet written. */
  private out = '';
  private flushing = false;
  /** An answer that ends the connection was queued: nothing after it is read. */
  private ending = false;
  /** Bytes to hand to node:http once every answer before them is written; undefined while the lane keeps the connection. */
  private leaving: Buffer | undefined;
  private paused = false;
  private ended = false;
  /** `rest` holds whole requests not taken for the backlog bound (not an incomplete request). */
  private held = false;
  /** The client closed its side. */
  private peerGone = false;
  /** Requests taken so far: only a connection's first may be an upgrade. */
  private served = 0;
  private readonly onData = (chunk: Buffer) => this.received(chunk);
  private readonly onDrain = () => this.flush();
  private readonly onEnd = () => this.peerEnded();
  private readonly onClose = () => this.host.forget(this);

  constructor(
    readonly socket: Socket,
    private readonly host: LaneHost,
  ) {
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', ignore);
  }

  /** Nothing half-read and nothing unanswered: the connection may be closed without losing a request. */
  get idle(): boolean {
    return this.rest === null && this.waiting.length === 0 && this.leaving === undefined && this.out === '';
  }

  /** Hand the connection to node:http now (its incomplete request took too long here). */
  giveUp(): void {
    if (this.leaving !== undefined || this.ending) return;
    const rest = this.rest ?? Buffer.alloc(0);
    this.rest = null;
    this.leave(rest);
    this.flush();
  }

  private received(chunk: Buffer): void {
    this.lastActive = Date.now();
    this.parse(this.rest ? Buffer.concat([this.rest, chunk]) : chunk);
  }

  /**
   * Take the requests at the start of `buf` while the client keeps reading
   * its answers; past the backlog bound, the rest is held (reading stops)
   * until the socket drains, as node:http checks before each request.
   */
  private parse(buf: Buffer): void {
    this.rest = null;
    this.held = false;
    let at = 0;
    while (at < buf.length && !this.ending) {
      if (this.backlogged() && (this.write(), this.backlogged())) {
        this.rest = buf.subarray(at);
        this.held = true;
        break;
      }
      const length = parseRequest(buf, at, this.host.limits, head);
      if (length > 0) {
        this.dispatch(buf);
        at += length;
      } else if (length === Parsed.Incomplete) {
        this.rest = buf.subarray(at);
        break;
      } else if (at === 0 && this.served === 0) {
        if (this.tryUpgrade(buf) !== Parsed.Incomplete) return;
        this.rest = buf;
        break;
      } else {
        this.leave(buf.subarray(at));
        return this.flush();
      }
    }
    // A request that began in this chunk after others completed began now; one still arriving keeps its start.
    if (this.rest === null || this.held) this.partialSince = 0;
    else if (at > 0 || this.partialSince === 0) this.partialSince = this.lastActive;
    if (this.peerGone && !this.held) {
      this.rest = null;
      this.ending = true;
    }
    this.flush();
  }

  /** Answers the client has not read, or not been sent, past the bound. */
  private backlogged(): boolean {
    return (
      this.out.length + this.socket.writableLength + this.readyBytes >= HIGH_WATER ||
      this.waiting.length >= MAX_WAITING ||
      this.largePending >= MAX_WAITING_LARGE ||
      this.pendingBodyBytes >= MAX_PENDING_BODY_BYTES
    );
  }

  /** The connection's first bytes as a WebSocket upgrade: handed to the upgrade listener, or to node:http; or incomplete. */
  private tryUpgrade(buf: Buffer): number {
    const length = parseUpgrade(buf, this.host.limits, upgradeHead);
    if (length === Parsed.Incomplete) return length;
    if (length === Parsed.NotMine) {
      this.leave(buf);
      this.flush();
      return length;
    }
    this.detach();
    this.host.upgrade(this.socket, upgradeHead, buf.subarray(length));
    return length;
  }

  private dispatch(buf: Buffer): void {
    this.served++;
    const { bodyStart, bodyLength } = head;
    const body = bodyLength > 0 ? buf.toString('utf8', bodyStart, bodyStart + bodyLength) : '';
    const close = head.close;
    if (close) this.ending = true;
    let result: unknown;
    try {
      result = this.host.answer(head, body);
    } catch (err) {
      return this.queue(this.refusal(err, close));
    }
    if (!(result instanceof Promise)) return this.queue(this.ok(result, close));
    const slot: Slot = { answer: undefined, large: !this.host.smallAnswer(head), bytes: bodyLength };
    this.pendingBodyBytes += bodyLength;
    if (slot.large) this.largePending++;
    this.waiting.push(slot);
    result.then(
      (value: unknown) => this.settle(slot, this.ok(value, close)),
      (err: unknown) => this.settle(slot, this.refusal(err, close)),
    );
  }

  private ok(value: unknown, close: boolean): Answer {
    return answerBytes(200, JSON.stringify(value), close, this.host.keepAliveSeconds);
  }

  private refusal(err: unknown, close: boolean): Answer {
    if (!(err instanceof HttpError)) this.host.failed(err);
    const answer = errorAnswer(err, this.host.keepAliveSeconds, close);
    if (answer.close) this.ending = true;
    return answer;
  }

  /** A ready answer: written now if nothing before it is pending, else in its turn. */
  private queue(answer: Answer): void {
    if (this.waiting.length === 0) this.out += answer.text;
    else {
      this.waiting.push({ answer, large: false, bytes: answer.text.length });
      this.readyBytes += answer.text.length;
    }
  }

  private settle(slot: Slot, answer: Answer): void {
    slot.answer = answer;
    this.pendingBodyBytes -= slot.bytes;
    if (slot.large) this.largePending--;
    slot.bytes = answer.text.length;
    this.readyBytes += slot.bytes;
    if (this.waiting[0] !== slot || this.flushing) return;
    // Other answers settle in the same microtask run (a pipelined batch): write them together.
    this.flushing = true;
    queueMicrotask(() => {
      this.flushing = false;
      this.flush();
    });
  }

  /** Write the answers that are ready, in order. */
  private write(): void {
    const { waiting, socket } = this;
    let ready = 0;
    while (ready < waiting.length && waiting[ready]!.answer) {
      const slot = waiting[ready++]!;
      this.out += slot.answer!.text;
      this.readyBytes -= slot.bytes;
    }
    if (ready > 0) waiting.splice(0, ready);
    if (this.out && !socket.destroyed) socket.write(this.out);
    this.out = '';
  }

  private flush(): void {
    this.write();
    if (this.waiting.length > 0) return this.pace();
    if (this.ending) return this.end();
    if (this.leaving !== undefined) return this.handOver();
    this.pace();
  }

  /** Stop reading while the client is not reading its answers, or has too many unanswered; go on with held requests once it does. */
  private pace(): void {
    const full = this.backlogged();
    if (full && !this.paused) this.socket.pause();
    else if (!full && this.paused && this.leaving === undefined) this.socket.resume();
    this.paused = full;
    if (!full && this.held && this.rest) this.parse(this.rest);
  }

  private leave(rest: Buffer): void {
    this.leaving = rest;
    this.socket.pause();
    this.socket.off('data', this.onData);
  }

  /** Take the lane's listeners off the socket: someone else reads it from now on. */
  private detach(): void {
    const { socket } = this;
    socket.off('data', this.onData);
    socket.off('drain', this.onDrain);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    socket.off('error', ignore);
    this.host.forget(this);
  }

  private handOver(): void {
    const { socket } = this;
    this.detach();
    if (socket.destroyed) return;
    if (this.leaving!.length > 0) socket.unshift(this.leaving!);
    this.host.toNode(socket);
    socket.resume();
  }

  /** The client closed its side: answer what was asked, then close ours (an incomplete request is dropped). */
  private peerEnded(): void {
    this.peerGone = true;
    // Whole requests held for the backlog are still answered; parse() ends the connection after them.
    if (this.held) return;
    this.rest = null;
    this.ending = true;
    if (this.leaving !== undefined) this.leaving = undefined;
    this.flush();
  }

  private end(): void {
    const { socket } = this;
    socket.off('data', this.onData);
    if (this.ended || socket.destroyed) return;
    this.ended = true;
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

function ignore(): void {}
