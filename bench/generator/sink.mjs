/**
 * Where data frames land: a delivery counter plus a latency histogram fed by
 * the sampled connections (send time read from the payload, arrival time taken
 * once per TCP chunk). `swap()` starts a new measurement window.
 */
import { Histogram } from '../lib/histogram.mjs';
import { sleep } from '../lib/sys.mjs';
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

  /**
   * Until nothing has arrived or closed for `quietMs` (at most `maxMs`): a
   * ladder step that overloaded a server leaves a backlog in flight, which
   * would otherwise land in the next step's window.
   */
  async settle(quietMs = 250, maxMs = 10_000) {
    const deadline = performance.now() + maxMs;
    let last = -1;
    while (performance.now() < deadline) {
      const seen = this.received + this.closed;
      if (seen === last) return;
      last = seen;
      await sleep(quietMs);
    }
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
