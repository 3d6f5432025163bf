/**
 * Which transport the next attempt uses, and opening it. The list is in order
 * of preference; `fallbackAfter` attempts in a row that end before the connect
 * reply move to the next one (a proxy that refuses WebSocket upgrades looks
 * exactly like that), and past the last one it starts over from the first, so
 * a server that was simply down is retried on every transport.
 *
 * While the client runs on a fallback, an UpgradeProbe checks now and then
 * whether the preferred WebSocket opens again.
 */
import { WsCloseCode } from '@tidings/protocol';
import {
  type Connection,
  type ConnectionEvents,
  type TransportName,
  type WebSocketConstructor,
  type WebSocketLike,
  WebSocketConnection,
} from './connection.js';
import type { Settings } from './options.js';
import { SseConnection } from './sse.js';
import { type Timer, startTimer, stopTimer } from './timers.js';

/** A link on transport `kind`, for one attempt. Throws when the URL is unusable. */
export function openConnection(kind: TransportName, o: Settings, events: ConnectionEvents): Connection {
  if (kind === 'websocket') return new WebSocketConnection(o.WebSocket!, o.url, events);
  return new SseConnection({ url: o.sseUrl, EventSource: o.EventSource!, fetch: o.fetch!, withCredentials: o.withCredentials }, events);
}

export class TransportPicker {
  private index = 0;
  private failures = 0;

  constructor(
    readonly order: readonly TransportName[],
    private readonly fallbackAfter: number,
  ) {
    if (order.length === 0) throw new TypeError('tidings: options.transports is empty');
  }

  get current(): TransportName {
    return this.order[this.index]!;
  }

  /** On a transport other than the preferred one. */
  get onFallback(): boolean {
    return this.index > 0;
  }

  /** An attempt on the current transport ended before the connect reply. */
  failed(): void {
    if (++this.failures < this.fallbackAfter) return;
    this.failures = 0;
    this.index = (this.index + 1) % this.order.length;
  }

  connected(): void {
    this.failures = 0;
  }

  /** Back to the preferred transport (the probe found it working). */
  reset(): void {
    this.index = 0;
    this.failures = 0;
  }
}

/**
 * Every `interval` ms, open a WebSocket and close it as soon as it opens: an
 * upgrade that succeeds means the preferred transport works again. Only the
 * upgrade is tested; the real connection then recovers by offsets.
 */
export class UpgradeProbe {
  private timer: Timer | null = null;
  private socket: WebSocketLike | null = null;

  constructor(
    private readonly WebSocket: WebSocketConstructor,
    private readonly url: string,
    private readonly interval: number,
    private readonly timeout: number,
    private readonly onAvailable: () => void,
  ) {}

  start(): void {
    if (this.timer === null && this.socket === null) this.timer = startTimer(this.interval, () => this.probe());
  }

  stop(): void {
    stopTimer(this.timer);
    this.timer = null;
    this.drop();
  }

  private probe(): void {
    this.timer = null;
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocket(this.url);
    } catch {
      return this.start();
    }
    this.socket = ws;
    const deadline = startTimer(this.timeout, () => settle(false));
    const settle = (ok: boolean): void => {
      stopTimer(deadline);
      if (this.socket !== ws) return;
      this.drop();
      if (ok) this.onAvailable();
      else this.start();
    };
    ws.onopen = () => settle(true);
    ws.onclose = () => settle(false);
    ws.onerror = () => settle(false);
  }

  private drop(): void {
    const ws = this.socket;
    this.socket = null;
    if (!ws) return;
    ws.onopen = ws.onclose = null;
    // `ws` emits an error when a handshake in progress is cut; an error event needs a listener there.
    ws.onerror = () => {};
    try {
      if (typeof ws.terminate === 'function') ws.terminate();
      else ws.close(WsCloseCode.Normal, 'probe');
    } catch {
      // Not open yet in some implementations; it is dropped either way.
    }
  }
}
