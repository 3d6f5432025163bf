/**
 * The browser's `online` and `offline` events, where there are any (not in
 * Node): they let the client reconnect as soon as the network is back rather
 * than after its backoff, and notice a lost network at once rather than when
 * the socket times out, which can take minutes.
 */

type NetworkEvents = {
  addEventListener?: (type: string, fn: () => void) => void;
  removeEventListener?: (type: string, fn: () => void) => void;
};

export class NetworkWatch {
  private watching = false;

  constructor(
    private readonly onOnline: () => void,
    private readonly onOffline: () => void,
  ) {}

  /** Listen (true) or stop listening (false); repeating either is a no-op. */
  set(on: boolean): void {
    const g = globalThis as unknown as NetworkEvents;
    if (typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function') return;
    if (on === this.watching) return;
    this.watching = on;
    const method = on ? g.addEventListener : g.removeEventListener;
    method.call(g, 'online', this.onOnline);
    method.call(g, 'offline', this.onOffline);
  }
}
