/**
 * A Pusher socket's way out: frames queued in one event-loop turn leave
 * corked, as one writev, and a reader that lets more than `maxBytes` pile up
 * is too slow (the session closes it). The same bounded queue as
 * transport/outbox.ts, kept here because the two folders share a rank.
 */
import type { Socket } from 'node:net';

function uncork(out: Outbound): void {
  out.corked = false;
  out.socket.uncork();
}

export class Outbound {
  corked = false;
  private overflowed = false;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly maxBytes: number,
    private readonly onOverflow: () => void,
  ) {}

  push(frame: Buffer): void {
    if (this.closed || this.overflowed || this.socket.destroyed) return;
    if (this.socket.writableLength + frame.length > this.maxBytes) {
      this.overflowed = true;
      return this.onOverflow();
    }
    this.write(frame);
  }

  /** The last frame before the close: taken even past the limit, so every close is explained. */
  farewell(frame: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.write(frame);
  }

  private write(frame: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    this.socket.write(frame);
  }

  get pending(): number {
    return this.socket.writableLength;
  }

  close(): void {
    this.closed = true;
  }
}
