/**
 * State folded from a channel's publications on top of the app's own
 * snapshot (`load()`), never silently stale. The rule:
 *
 * 1. load() runs once the subscription is live (subscribed), not before: a
 *    snapshot taken before the subscribe took effect could miss a
 *    publication sent in between, and nothing would ever deliver it.
 * 2. load() runs again whenever a resubscribe reports `wasRecovering &&
 *    !recovered` (the stream has a hole the server cannot fill), and when
 *    the app calls reload().
 * 3. Publications that arrive while load() runs are buffered, in order.
 *    When load() resolves, its state replaces the current one and the
 *    buffer is applied on top, except the publications the snapshot already
 *    holds: if load() reports the stream `position` its snapshot is at,
 *    buffered publications of that epoch with offset <= position.offset are
 *    dropped. Without a position every buffered publication is applied, so
 *    the reducer must then ignore what it already has (by message id, or by
 *    `pub.offset`).
 * 4. Publications received before a load() started are not replayed onto its
 *    snapshot: the backend stores before it publishes, so the snapshot has them.
 * 5. A newer load() supersedes an older one still running (its result is
 *    ignored). A load() that fails leaves the current state, applies the
 *    buffer to it, and reports `error`; the next trigger or reload() retries.
 */
import type { Publication, StreamPosition, SubscribedContext, Subscription } from '@tidings/client';

export interface Loaded<S> {
  state: S;
  /** The stream position the snapshot includes (e.g. the `{offset, epoch}` the backend's publish returned). */
  position?: StreamPosition;
}

export type ChannelStatus = 'loading' | 'ready' | 'error';

export interface ChannelSnapshot<S> {
  state: S;
  status: ChannelStatus;
  error: Error | null;
  /** How many times load() has been started (the first load counts). */
  loads: number;
}

export interface ChannelFoldOptions<S, T> {
  reducer: () => (state: S, pub: Publication<T>) => S;
  load: () => () => Promise<Loaded<S>> | Loaded<S>;
  onChange: (snap: ChannelSnapshot<S>) => void;
}

export class ChannelFold<S, T> {
  private snap: ChannelSnapshot<S>;
  /** Non-null while a load() runs: publications wait here. */
  private buffer: Publication<T>[] | null = null;
  private generation = 0;
  private disposed = false;
  private loadedWhileLive = false;
  private readonly offs: Array<() => void>;

  constructor(
    private readonly sub: Subscription<T>,
    initial: S,
    private readonly opts: ChannelFoldOptions<S, T>,
  ) {
    this.snap = { state: initial, status: 'loading', error: null, loads: 0 };
    this.offs = [sub.on('publication', (p) => this.onPublication(p)), sub.on('subscribed', (c) => this.onSubscribed(c))];
    // A microtask later: strict mode's rehearsal unmount disposes this fold before it loads.
    if (sub.state === 'subscribed') queueMicrotask(() => this.startLoad());
  }

  get snapshot(): ChannelSnapshot<S> {
    return this.snap;
  }

  /** Fetch the snapshot again now (or once the subscription is live). */
  reload(): void {
    if (this.sub.state === 'subscribed') this.startLoad();
    else this.loadedWhileLive = false;
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    this.offs.forEach((off) => off());
  }

  private onSubscribed(ctx: SubscribedContext): void {
    if (!this.loadedWhileLive || (ctx.wasRecovering && !ctx.recovered)) this.startLoad();
  }

  private onPublication(pub: Publication<T>): void {
    if (this.buffer) this.buffer.push(pub);
    else this.apply([pub]);
  }

  private startLoad(): void {
    if (this.disposed) return;
    const generation = ++this.generation;
    this.loadedWhileLive = true;
    this.buffer = [];
    this.set({ status: 'loading', loads: this.snap.loads + 1 });
    let pending: Promise<Loaded<S>>;
    try {
      pending = Promise.resolve(this.opts.load()());
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (loaded) => generation === this.generation && this.finishLoad(loaded),
      (err: unknown) => generation === this.generation && this.failLoad(err),
    );
  }

  private finishLoad(loaded: Loaded<S>): void {
    if (!loaded || typeof loaded !== 'object' || !('state' in loaded)) {
      return this.failLoad(new TypeError('tidings: load() must resolve to { state, position? }'));
    }
    const buffered = this.takeBuffer().filter((p) => !covered(loaded.position, p));
    this.snap = { ...this.snap, state: loaded.state, status: 'ready', error: null };
    this.apply(buffered, true);
  }

  private failLoad(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.snap = { ...this.snap, status: 'error', error };
    this.apply(this.takeBuffer(), true);
  }

  private takeBuffer(): Publication<T>[] {
    const buffered = this.buffer ?? [];
    this.buffer = null;
    return buffered;
  }

  private apply(pubs: Publication<T>[], force = false): void {
    if (pubs.length === 0 && !force) return;
    const reducer = this.opts.reducer();
    let state = this.snap.state;
    for (const p of pubs) state = reducer(state, p);
    this.set({ state });
  }

  private set(patch: Partial<ChannelSnapshot<S>>): void {
    this.snap = { ...this.snap, ...patch };
    if (!this.disposed) this.opts.onChange(this.snap);
  }
}

/** The snapshot at `position` already holds `pub`. */
export function covered(position: StreamPosition | undefined, pub: Publication<unknown>): boolean {
  return !!position && pub.offset > 0 && pub.epoch === position.epoch && pub.offset <= position.offset;
}
