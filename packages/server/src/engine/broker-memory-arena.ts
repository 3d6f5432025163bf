/**
 * Where the embedded history keeps its bytes (broker-memory-stream.ts): blocks
 * of power-of-two sizes, carved from 1 MiB slabs, carved from large regions,
 * handed out as views and reused as soon as they are given back.
 *
 * Every ArrayBuffer V8 hands out counts as external memory, and its growth
 * starts full collections: with slabs of 1 MiB, one after every 19–60 MB of
 * it in the batch ladder (bench/RESULTS.md).
 * On a busy node with thousands of connections that collection holds the
 * event loop for tens of milliseconds (bench/RESULTS.md, the batch ladder),
 * and a history that is filling up is exactly such growth. So the arena asks
 * V8 for memory a region at a time (`regionBytes`, 256 MiB unless
 * configured): one report per region instead of a stream of them. The pages of
 * a region become resident only as slabs are first used, so a region costs
 * address space, not RSS, until the history fills it. A step that large
 * makes V8 run young collections back to back, which with allocation-site
 * pretenuring on can leave it allocating request objects in the old
 * generation for good; `tidings serve` turns pretenuring off
 * (cli/v8-settings.ts).
 *
 * Contract: `bytes(n)` and `floats(n)` return a view of at least n bytes /
 * exactly n floats, not zeroed, that no other caller holds until it is given
 * back with `release`. Releasing a block that is not out (twice, or a view
 * this arena did not hand out) throws: a stream still writing to a block it
 * gave back would corrupt another's history, so that bug must be loud. A
 * slab whose blocks are all back goes back to its region for any size class
 * (but one per class, kept for the next block until `trim()`, which also
 * drops the regions with nothing in use, keeping the first).
 */

/** The smallest block (a channel's first entries) and the largest carved from a slab. */
const MIN_BLOCK_SHIFT = 10;
const SLAB_SHIFT = 20;
const SLAB_BYTES = 2 ** SLAB_SHIFT;
const CLASSES = SLAB_SHIFT - MIN_BLOCK_SHIFT + 1;
const DEFAULT_REGION_BYTES = 256 * SLAB_BYTES;

interface Region {
  readonly memory: ArrayBuffer;
  /** Slabs in use, by index; holes are slabs never used or given back. */
  readonly slabs: (Slab | undefined)[];
  /** Slab indexes given back, reused before the untouched ones (their pages are resident already). */
  readonly spare: number[];
  /** Slabs never used yet start here. */
  fresh: number;
  inUse: number;
}

interface Slab {
  readonly region: Region;
  readonly index: number;
  readonly shift: number;
  /** Indexes of the blocks not handed out, used as a stack. */
  readonly free: number[];
  /** 1 for each block handed out. */
  readonly out: Uint8Array;
}

export class HistoryArena {
  private readonly regions = new Map<ArrayBuffer, Region>();
  /** Per size class: its slabs with a free block. */
  private readonly roomy: Slab[][] = Array.from({ length: CLASSES }, () => []);
  private readonly slabsPerRegion: number;
  /** Blocks larger than a slab, each its own buffer. */
  private readonly large = new Set<ArrayBuffer>();
  private held = 0;

  constructor(regionBytes = DEFAULT_REGION_BYTES) {
    this.slabsPerRegion = Math.max(1, Math.ceil(regionBytes / SLAB_BYTES));
  }

  /** A view of at least `size` bytes (the whole block: a ring may use all of it). */
  bytes(size: number): Buffer {
    const { memory, offset, length } = this.take(size);
    return Buffer.from(memory, offset, length);
  }

  /** A view of exactly `count` floats. */
  floats(count: number): Float64Array {
    const { memory, offset } = this.take(count * 8);
    return new Float64Array(memory, offset, count);
  }

  /** Give back a view that `bytes` or `floats` returned. */
  release(view: ArrayBufferView): void {
    const size = blockSize(view.byteLength);
    const region = this.regions.get(view.buffer as ArrayBuffer);
    if (!region) {
      // Larger than a slab: its own buffer, freed with the view.
      if (!this.large.delete(view.buffer as ArrayBuffer)) throw new Error('history arena: released a block that is not out');
      this.held -= size;
      return;
    }
    const slab = region.slabs[view.byteOffset >>> SLAB_SHIFT];
    const index = (view.byteOffset & (SLAB_BYTES - 1)) >>> (slab?.shift ?? 0);
    if (!slab || slab.out[index] !== 1 || size !== 2 ** slab.shift) throw new Error('history arena: released a block that is not out');
    slab.out[index] = 0;
    this.held -= size;
    slab.free.push(index);
    const roomy = this.roomy[slab.shift - MIN_BLOCK_SHIFT]!;
    if (slab.free.length === 1) roomy.push(slab);
    // One empty slab per class stays, so a block taken and given back in turn does not remake a slab each time.
    if (slab.free.length === slab.out.length && roomy.length > 1) this.retire(slab, roomy);
  }

  /** Give back the empty slabs kept for the next block, then drop the regions nothing is held in, but the first (the broker's sweep). */
  trim(): void {
    for (const roomy of this.roomy) for (const slab of roomy.filter((s) => s.free.length === s.out.length)) this.retire(slab, roomy);
    let kept = false;
    for (const [memory, region] of this.regions) {
      if (region.inUse > 0 || !kept) kept = true;
      else this.regions.delete(memory);
    }
  }

  /** Bytes in blocks handed out, and in regions (address space, resident only once used), for tests and metrics. */
  get usage(): { held: number; reserved: number } {
    let reserved = 0;
    for (const memory of this.regions.keys()) reserved += memory.byteLength;
    return { held: this.held, reserved };
  }

  private take(size: number): { memory: ArrayBuffer; offset: number; length: number } {
    const shift = shiftFor(size);
    this.held += 2 ** shift;
    if (shift > SLAB_SHIFT) return this.takeLarge(shift);
    const roomy = this.roomy[shift - MIN_BLOCK_SHIFT]!;
    const slab = roomy[roomy.length - 1] ?? this.newSlab(shift, roomy);
    const index = slab.free.pop()!;
    slab.out[index] = 1;
    if (slab.free.length === 0) roomy.pop();
    return { memory: slab.region.memory, offset: slab.index * SLAB_BYTES + index * 2 ** shift, length: 2 ** shift };
  }

  private takeLarge(shift: number): { memory: ArrayBuffer; offset: number; length: number } {
    const memory = new ArrayBuffer(2 ** shift);
    this.large.add(memory);
    return { memory, offset: 0, length: 2 ** shift };
  }

  private newSlab(shift: number, roomy: Slab[]): Slab {
    const region = this.regionWithRoom();
    const index = region.spare.pop() ?? region.fresh++;
    const count = SLAB_BYTES >>> shift;
    // Highest index first on the stack, so blocks go out from the slab's start.
    const slab: Slab = { region, index, shift, free: Array.from({ length: count }, (_, i) => count - 1 - i), out: new Uint8Array(count) };
    region.slabs[index] = slab;
    region.inUse++;
    roomy.push(slab);
    return slab;
  }

  private regionWithRoom(): Region {
    for (const region of this.regions.values()) if (region.spare.length > 0 || region.fresh < this.slabsPerRegion) return region;
    const region: Region = { memory: new ArrayBuffer(this.slabsPerRegion * SLAB_BYTES), slabs: [], spare: [], fresh: 0, inUse: 0 };
    this.regions.set(region.memory, region);
    return region;
  }

  /** Every block of `slab` is back: its slab goes back to the region, for any size class. */
  private retire(slab: Slab, roomy: Slab[]): void {
    roomy.splice(roomy.indexOf(slab), 1);
    slab.region.slabs[slab.index] = undefined;
    slab.region.spare.push(slab.index);
    slab.region.inUse--;
  }
}

/** The size class of `size` bytes: log2 of the smallest block that holds them. */
function shiftFor(size: number): number {
  return Math.max(MIN_BLOCK_SHIFT, 32 - Math.clz32(Math.max(1, size) - 1));
}

/** The block a view of this many bytes came from. */
function blockSize(byteLength: number): number {
  return 2 ** shiftFor(byteLength);
}
