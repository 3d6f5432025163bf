/**
 * The way back to the preferred transport. While the client runs on a
 * fallback (SSE), an UpgradeProbe checks now and then whether the WebSocket
 * opens again; once it does, the client switches back, but only at a moment
 * when no command is in flight, so no call is lost. Publications recover by
 * offsets across the switch.
 */
import type { WebSocketConstructor } from './connection.js';
import { type TransportPicker, UpgradeProbe } from './transports.js';

export interface UpgradeWatchOptions {
  WebSocket: WebSocketConstructor | undefined;
  url: string;
  /** How often to probe, ms. */
  interval: number;
  /** How long a probe may take to open, ms. */
  timeout: number;
}

export interface UpgradeWatchHost {
  /** Connected with no command in flight. */
  idle(): boolean;
  /** Drop the current connection and reconnect at once (the picker is back on its first transport). */
  switchBack(): void;
}

export class UpgradeWatch {
  private probe: UpgradeProbe | null = null;
  /** The WebSocket works again: switch when no command is in flight. */
  private switchWhenIdle = false;

  constructor(
    private readonly picker: TransportPicker,
    private readonly opts: UpgradeWatchOptions,
    private readonly host: UpgradeWatchHost,
  ) {}

  /** On a fallback: probe the WebSocket now and then, and move back once it opens. */
  start(): void {
    const o = this.opts;
    if (this.picker.order[0] !== 'websocket' || !o.WebSocket) return;
    this.probe ??= new UpgradeProbe(o.WebSocket, o.url, o.interval, o.timeout, () => {
      this.switchWhenIdle = true;
      this.switchIfIdle();
    });
    this.probe.start();
  }

  stop(): void {
    this.probe?.stop();
    this.switchWhenIdle = false;
  }

  /** Called whenever a command settles: the switch may be due now. */
  switchIfIdle(): void {
    if (!this.switchWhenIdle || !this.host.idle()) return;
    this.switchWhenIdle = false;
    this.picker.reset();
    this.host.switchBack();
  }
}
