/**
 * The memory broker keeps its channels' history in one arena
 * (engine/broker-memory-arena.ts): what expires is given back at the sweep,
 * and a step of memory nothing is held in is dropped, so history memory
 * follows what is kept, not what was ever published.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../packages/server/src/engine/broker-memory.js';

const MiB = 1_048_576;

describe('MemoryBroker history memory', () => {
  it('grows in steps, gives expired history back at the sweep and drops the steps it no longer needs', async () => {
    const broker = new MemoryBroker({ historyReserveBytes: 2 * MiB });
    const history = { size: 100, ttlMs: 1_000 };
    const data = JSON.stringify({ note: 'x'.repeat(2_000) });
    // 300 channels × 3 entries of about 2 KB: 8 KB blocks, about 2.4 MB, more than one 2 MiB step.
    for (let round = 0; round < 3; round++) for (let c = 0; c < 300; c++) await broker.publish(`job:${c}`, data, { history });
    const full = broker.historyMemory;
    expect(full.held).toBeGreaterThan(2 * MiB);
    expect(full.reserved).toBeGreaterThanOrEqual(4 * MiB);
    const recovered = await broker.history('job:7', { sinceOffset: 0 });
    expect(recovered.publications.map((p) => [p.offset, p.data])).toEqual([1, 2, 3].map((o) => [o, data]));

    broker.sweep(Date.now() + 5_000);
    expect(broker.historyMemory).toEqual({ held: 0, reserved: 2 * MiB });

    // The channels keep their offsets after their history expired, and the memory is used again.
    expect(await broker.publish('job:7', data, { history })).toMatchObject({ offset: 4 });
    expect(broker.historyMemory.reserved).toBe(2 * MiB);
  });
});
