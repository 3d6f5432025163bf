/**
 * A string-keyed map for the few entries most holders have: a session's
 * subscriptions (usually one to three). A Map's hash table was a visible
 * share of an idle connection's memory (bench/RESULTS.md); up to `FLAT_MAX`
 * entries live in one flat array
 * `[key, value, key, value, …]` searched linearly, and past that in a Map.
 */
const FLAT_MAX = 8;

export class SmallMap<V> {
  private flat: unknown[] | undefined;
  private map: Map<string, V> | undefined;

  get size(): number {
    return this.map ? this.map.size : this.flat ? this.flat.length / 2 : 0;
  }

  get(key: string): V | undefined {
    if (this.map) return this.map.get(key);
    const i = this.indexOf(key);
    return i < 0 ? undefined : (this.flat![i + 1] as V);
  }

  has(key: string): boolean {
    return this.map ? this.map.has(key) : this.indexOf(key) >= 0;
  }

  set(key: string, value: V): void {
    if (this.map) return void this.map.set(key, value);
    const i = this.indexOf(key);
    if (i >= 0) return void (this.flat![i + 1] = value);
    const flat = this.flat;
    // Exact-size arrays: `push` would reserve room for 16 more slots in every session.
    if (!flat) return void (this.flat = [key, value]);
    if (flat.length < FLAT_MAX * 2) return void (this.flat = [...flat, key, value]);
    this.map = new Map(this.entries());
    this.map.set(key, value);
    this.flat = undefined;
  }

  delete(key: string): boolean {
    if (this.map) return this.map.delete(key);
    const i = this.indexOf(key);
    if (i < 0) return false;
    const flat = this.flat!;
    this.flat = flat.length === 2 ? undefined : [...flat.slice(0, i), ...flat.slice(i + 2)];
    return true;
  }

  /** A snapshot of the keys: safe to delete while iterating it. */
  keys(): string[] {
    if (this.map) return [...this.map.keys()];
    const out: string[] = [];
    for (let i = 0; i < (this.flat?.length ?? 0); i += 2) out.push(this.flat![i] as string);
    return out;
  }

  private entries(): Array<[string, V]> {
    const out: Array<[string, V]> = [];
    for (let i = 0; i < (this.flat?.length ?? 0); i += 2) out.push([this.flat![i] as string, this.flat![i + 1] as V]);
    return out;
  }

  private indexOf(key: string): number {
    const flat = this.flat;
    if (!flat) return -1;
    for (let i = 0; i < flat.length; i += 2) if (flat[i] === key) return i;
    return -1;
  }
}
