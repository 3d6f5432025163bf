/**
 * A push shared by many connections, whatever their transport: the JSON is
 * encoded once, and framed at most once per transport kind, on first use, so
 * the same bytes go to every subscriber.
 */
import { sseDataEvent } from './sse-event.js';
import { wsTextFrame } from './ws-frame.js';

/** Where a publication frame puts its channel: what an SSE stream needs for its event ids. */
export interface FramePosition {
  readonly channel: string;
  readonly offset: number;
  readonly epoch: string;
  /** When the publication was accepted (ms since the epoch), for the fan-out latency metric. */
  readonly time?: number;
}

export class SharedFrame {
  private ws?: Buffer;
  private sse?: Buffer;
  constructor(
    readonly json: string,
    /** Set for publications with a stream position. */
    readonly position?: FramePosition,
  ) {}

  wsBytes(): Buffer {
    return (this.ws ??= wsTextFrame(this.json));
  }

  sseBytes(): Buffer {
    return (this.sse ??= sseDataEvent(this.json));
  }
}
