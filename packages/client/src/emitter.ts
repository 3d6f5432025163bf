/**
 * A tiny typed event emitter. No Node `events` import, so the browser build
 * has no dependency. A listener that throws never stops the other listeners
 * or the caller: the exception goes to `onListenerError`, which subclasses
 * override to route it to their `error` event or a logger.
 */

export type Listener<T> = (payload: T) => void;

interface Entry {
  fn: Listener<never>;
  once: boolean;
}

export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Entry[]>();

  /** Add a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, fn: Listener<Events[K]>): () => void {
    return this.add(event, fn, false);
  }

  /** Add a listener for the next emission only; returns a function that removes it. */
  once<K extends keyof Events>(event: K, fn: Listener<Events[K]>): () => void {
    return this.add(event, fn, true);
  }

  /** Remove a listener added with on() or once(). */
  off<K extends keyof Events>(event: K, fn: Listener<Events[K]>): void {
    const entry = this.listeners.get(event)?.find((e) => e.fn === fn);
    if (entry) this.remove(event, entry);
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const entry of list) {
      // Skip listeners removed by an earlier listener of this same emission.
      if (!this.listeners.get(event)?.includes(entry)) continue;
      if (entry.once) this.remove(event, entry);
      try {
        (entry.fn as Listener<Events[K]>)(payload);
      } catch (err) {
        this.onListenerError(err, String(event));
      }
    }
  }

  /** Where exceptions thrown by listeners go. */
  protected onListenerError(err: unknown, event: string): void {
    const g = globalThis as { reportError?: (e: unknown) => void; console?: { error?: (...args: unknown[]) => void } };
    if (typeof g.reportError === 'function') g.reportError(err);
    else g.console?.error?.(`tidings: a "${event}" listener threw`, err);
  }

  private add<K extends keyof Events>(event: K, fn: Listener<Events[K]>, once: boolean): () => void {
    const entry: Entry = { fn: fn as Listener<never>, once };
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), entry]);
    return () => this.remove(event, entry);
  }

  private remove(event: keyof Events, entry: Entry): void {
    const list = this.listeners.get(event);
    if (!list?.includes(entry)) return;
    // Copy on write: an emit() in progress keeps iterating its own snapshot.
    const next = list.filter((e) => e !== entry);
    if (next.length) this.listeners.set(event, next);
    else this.listeners.delete(event);
  }
}
