/**
 * Timers that never keep a Node process alive by themselves: only the
 * connection should (the open socket, or the reconnect timer that stands for
 * it between attempts, see Lifecycle.lose). In browsers setTimeout returns a
 * number and unref does not exist, so these are plain timers there.
 */

export type Timer = ReturnType<typeof setTimeout>;

export function startTimer(ms: number, fn: () => void): Timer {
  const t = setTimeout(fn, ms);
  (t as unknown as { unref?: () => void }).unref?.();
  return t;
}

export function stopTimer(t: Timer | null | undefined): void {
  if (t !== null && t !== undefined) clearTimeout(t);
}
