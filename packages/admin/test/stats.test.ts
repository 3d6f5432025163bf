/** The page's folding of `_tidings:stats` messages: totals over reporting nodes, top channels across nodes, the chart's series. */
import { describe, expect, it } from 'vitest';
import { EMPTY, SERIES_SECONDS, STALE_MS, type StatsMessage, fold, formatRate, topChannels, totals } from '../src/stats.js';

function msg(id: string, over: Partial<StatsMessage> = {}): StatsMessage {
  return {
    node: { id, address: `10.0.0.${id}:7070`, connections: 10, users: 5, channels: 3, uptime: 60, updated: 0 },
    subscriptions: 20,
    publications: 100,
    deliveries: 400,
    publicationRate: 2,
    deliveryRate: 8,
    topChannels: [],
    time: 0,
    ...over,
  };
}

describe('admin page: stats folding', () => {
  it('adds up the nodes that report, and drops a node silent for STALE_MS', () => {
    let d = fold(EMPTY, msg('1'), 1_000);
    d = fold(d, msg('2', { publicationRate: 3 }), 1_200);
    expect(totals(d, 1_500)).toEqual({ nodes: 2, connections: 20, users: 10, subscriptions: 40, channels: 6, in: 5, out: 16 });
    d = fold(d, msg('2', { publicationRate: 1 }), 1_000 + STALE_MS);
    expect(totals(d, 1_000 + STALE_MS)).toMatchObject({ nodes: 1, in: 1 });
  });

  it("ranks channels across nodes by each channel's highest rate", () => {
    let d = fold(EMPTY, msg('1', { topChannels: [{ channel: 'a', rate: 5 }, { channel: 'b', rate: 1 }] }), 1_000);
    d = fold(d, msg('2', { topChannels: [{ channel: 'a', rate: 4 }, { channel: 'c', rate: 3 }] }), 1_100);
    expect(topChannels(d, 1_200)).toEqual([
      { channel: 'a', rate: 5 },
      { channel: 'c', rate: 3 },
      { channel: 'b', rate: 1 },
    ]);
  });

  it('keeps one chart point per second, for SERIES_SECONDS at most', () => {
    let d = EMPTY;
    for (let s = 0; s < SERIES_SECONDS + 50; s++) {
      d = fold(d, msg('1', { publicationRate: s }), s * 1000 + 100);
      d = fold(d, msg('1', { publicationRate: s }), s * 1000 + 600);
    }
    expect(d.series).toHaveLength(SERIES_SECONDS);
    expect(d.series.at(-1)).toEqual({ t: (SERIES_SECONDS + 49) * 1000, in: SERIES_SECONDS + 49, out: 8 });
  });

  it('formats rates compactly', () => {
    expect([0, 2.25, 12, 150.4, 1234, 56_000].map(formatRate)).toEqual(['0', '2.3', '12', '150', '1.2k', '56k']);
  });
});
