/**
 * Where data frames land: a delivery counter plus a latency histogram fed by
 * the sampled connections (send time read from the payload, arrival time taken
 * once per TCP chunk). `swap()` starts a new measurement window.
 */
import { Histogram } from '../lib/histogram.mjs';
import { readSendUs } from '../lib/payload.mjs';

export class DeliverySink {
  received = 0;
  /** TCP reads (chunks) on open connections: received / reads shows how much the server coalesces. */
  reads = 0;
  closed = 0;
  hist = new Histogram();

  onData(conn, buf, s, e) {
    this.received++;
    if (!conn.sampled) return;
    const sent = readSendUs(buf, s, e);
    if (sent >= 0) this.hist.record(conn.chunkUs - sent);
  }

  onClose() {
    this.closed++;
  }

  /** Start a new window: returns the old histogram and resets the counter. */
  swap() {
    const old = { received: this.received, reads: this.reads, hist: this.hist };
    this.received = 0;
    this.reads = 0;
    this.hist = new Histogram();
    return old;
  }
}
