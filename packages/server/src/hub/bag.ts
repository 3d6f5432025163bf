/**
 * A set that allocates no Set while it holds a single item. Most channels
 * (a job's progress, a user's personal channel) have one subscriber and most
 * users one connection, and a Set per channel and per user is a large part
 * of an idle connection's memory. The fan-out loop reads `one` / `many`
 * directly; everything else uses `toArray` (a snapshot, safe to mutate under).
 */
export class Bag<T> {
  one: T | undefined = undefined;
  many: Set<T> | undefined = undefined;

  get size(): number {
    return this.many ? this.many.size : this.one === undefined ? 0 : 1;
  }

  add(item: T): void {
    if (this.many) this.many.add(item);
    else if (this.one === undefined || this.one === item) this.one = item;
    else {
      this.many = new Set([this.one, item]);
      this.one = undefined;
    }
  }

  delete(item: T): boolean {
    if (!this.many) {
      if (this.one !== item) return false;
      this.one = undefined;
      return true;
    }
    const removed = this.many.delete(item);
    if (this.many.size === 1) {
      this.one = this.many.values().next().value;
      this.many = undefined;
    }
    return removed;
  }

  toArray(): T[] {
    return this.many ? [...this.many] : this.one === undefined ? [] : [this.one];
  }
}
