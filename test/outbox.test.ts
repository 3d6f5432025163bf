import { expect, it } from 'vitest';
import { Outbox, type Sink } from '../packages/server/dist/transport/outbox.js';

/** A socket stand-in that records what each write carried. */
class RecordingSink implements Sink {
  writes: string[] = [];
  writableLength = 0;
  write(data: Buffer): boolean {
    this.writes.push(data.toString());
    return true;
  }
}

const noOverflow = { onOverflow: () => {} };
const nextTurn = () => new Promise<void>((r) => setImmediate(r));
/** One full poll between two immediates: a timer of 0 ms runs after the check phase. */
const ioTurn = () => new Promise<void>((r) => setTimeout(r, 0));

function outboxes(n: number): Array<{ sink: RecordingSink; box: Outbox }> {
  return Array.from({ length: n }, () => {
    const sink = new RecordingSink();
    return { sink, box: new Outbox(sink, 1 << 20, noOverflow) };
  });
}

it('writes a large round in slices, so I/O gets a turn before the whole round is written', async () => {
  const all = outboxes(1000);
  for (const { box } of all) box.push(Buffer.from('a'));
  await nextTurn();
  const afterFirst = all.filter(({ sink }) => sink.writes.length > 0).length;
  expect(afterFirst).toBeGreaterThan(0);
  expect(afterFirst).toBeLessThan(1000);
  for (let i = 0; i < 100 && all.some(({ sink }) => sink.writes.length === 0); i++) await ioTurn();
  expect(all.every(({ sink }) => sink.writes.length === 1)).toBe(true);
});

it('a frame queued mid-round joins an outbox not yet written, and re-queues one already written; order holds', async () => {
  const all = outboxes(1000);
  for (const { box } of all) box.push(Buffer.from('a'));
  await nextTurn(); // the first slice is out
  for (const { box } of all) box.push(Buffer.from('b'));
  for (let i = 0; i < 100 && all.some(({ sink }) => sink.writes.join('') !== 'ab'); i++) await ioTurn();
  const first = all[0]!.sink.writes;
  const last = all[999]!.sink.writes;
  expect(first).toEqual(['a', 'b']); // written, then queued again
  expect(last).toEqual(['ab']); // both frames in one write
  expect(all.every(({ sink }) => sink.writes.join('') === 'ab')).toBe(true);
});

it('an outbox re-filled in every slice still gets every frame, in order, while others are written', async () => {
  const all = outboxes(600);
  const busy = all[0]!;
  let sent = '';
  for (let turn = 0; turn < 300; turn++) {
    const ch = String.fromCharCode(97 + (turn % 26));
    busy.box.push(Buffer.from(ch));
    sent += ch;
    if (turn % 3 === 0) for (const { box } of all.slice(1)) box.push(Buffer.from('x'));
    await ioTurn();
  }
  for (let i = 0; i < 100; i++) await ioTurn();
  expect(busy.sink.writes.join('')).toBe(sent);
  expect(all.slice(1).every(({ sink }) => sink.writes.join('') === 'x'.repeat(100))).toBe(true);
});

it('a round longer than the compaction threshold loses and reorders nothing', async () => {
  const all = outboxes(5000);
  let sent = '';
  for (let turn = 0; turn < 60; turn++) {
    const ch = String.fromCharCode(97 + (turn % 26));
    sent += ch;
    for (const { box } of all) box.push(Buffer.from(ch));
    await ioTurn();
  }
  for (let i = 0; i < 200 && all.some(({ sink }) => sink.writes.join('') !== sent); i++) await ioTurn();
  expect(all.every(({ sink }) => sink.writes.join('') === sent)).toBe(true);
});

/** A sink that keeps the buffers themselves, to tell a shared join from copies. */
class BufferSink implements Sink {
  writes: Buffer[] = [];
  writableLength = 0;
  write(data: Buffer): boolean {
    this.writes.push(data);
    return true;
  }
}

it('outboxes holding the same frames in the same order are written one shared buffer; others get their own bytes', async () => {
  const frames = ['p1', 'p2', 'p3'].map((t) => Buffer.from(t));
  const sinks = Array.from({ length: 50 }, () => new BufferSink());
  const boxes = sinks.map((s) => new Outbox(s, 1 << 20, noOverflow));
  for (const f of frames) for (const b of boxes) b.push(f);
  // One outbox holds equal bytes in other objects, one a different order: neither may take the shared buffer.
  const twinSink = new BufferSink();
  new Outbox(twinSink, 1 << 20, noOverflow).push(Buffer.from('p1p2p3'));
  const lookalike = new BufferSink();
  const look = new Outbox(lookalike, 1 << 20, noOverflow);
  for (const f of [frames[1]!, frames[0]!, frames[2]!]) look.push(f);
  await nextTurn();
  const shared = sinks[0]!.writes[0]!;
  expect(shared.toString()).toBe('p1p2p3');
  for (const s of sinks) expect(s.writes).toEqual([shared]);
  expect(sinks.every((s) => s.writes[0] === shared)).toBe(true);
  expect(lookalike.writes.map(String)).toEqual(['p2p1p3']);
  expect(lookalike.writes[0]).not.toBe(shared);
  expect(twinSink.writes.map(String)).toEqual(['p1p2p3']);
});

it('property: whatever frames go to whichever outboxes, over several turns, each socket gets exactly its frames, in order', async () => {
  const fc = await import('fast-check');
  await fc.assert(
    fc.asyncProperty(
      // Per turn: a list of (frame index, outbox mask) pushes; frames are shared objects, as a fan-out's are.
      fc.array(fc.array(fc.tuple(fc.nat(5), fc.integer({ min: 1, max: 15 })), { maxLength: 12 }), { minLength: 1, maxLength: 4 }),
      async (turns) => {
        const frames = Array.from({ length: 6 }, (_, i) => Buffer.from(`<${i}>`));
        const sinks = Array.from({ length: 4 }, () => new BufferSink());
        const boxes = sinks.map((s) => new Outbox(s, 1 << 20, noOverflow));
        const expected = sinks.map(() => '');
        for (const turn of turns) {
          for (const [f, mask] of turn) {
            for (let i = 0; i < 4; i++) {
              if (!(mask & (1 << i))) continue;
              boxes[i]!.push(frames[f]!);
              expected[i] += frames[f]!.toString();
            }
          }
          await nextTurn();
        }
        for (let i = 0; i < 4; i++) expect(Buffer.concat(sinks[i]!.writes).toString()).toBe(expected[i]);
      },
    ),
    { numRuns: 300 },
  );
});

it('outboxes with lists of their own among a fan-out do not make the fan-out join its list again', async () => {
  // A WebSocket list and an SSE list of the same two publications, interleaved, and every tenth subscriber with a frame of its own.
  const ws = [Buffer.from('w1'), Buffer.from('w2')];
  const sse = [Buffer.from('s1'), Buffer.from('s2')];
  const sinks: Array<{ sink: BufferSink; kind: 'ws' | 'sse' | 'own' }> = [];
  for (let i = 0; i < 200; i++) {
    const kind = i % 10 === 9 ? 'own' : i % 2 === 0 ? 'ws' : 'sse';
    const sink = new BufferSink();
    const box = new Outbox(sink, 1 << 20, noOverflow);
    for (const f of kind === 'sse' ? sse : ws) box.push(f);
    if (kind === 'own') box.push(Buffer.from(`own${i}`));
    sinks.push({ sink, kind });
  }
  for (let i = 0; i < 20 && sinks.some(({ sink }) => sink.writes.length === 0); i++) await ioTurn();
  const written = (kind: string) => new Set(sinks.filter((s) => s.kind === kind).map(({ sink }) => sink.writes[0]));
  expect(written('ws').size).toBe(1);
  expect(written('sse').size).toBe(1);
  expect([...written('ws')][0]!.toString()).toBe('w1w2');
  expect([...written('sse')][0]!.toString()).toBe('s1s2');
  sinks.forEach(({ sink, kind }, i) => {
    expect(sink.writes).toHaveLength(1);
    if (kind === 'own') expect(sink.writes[0]!.toString()).toBe(`w1w2own${i}`);
  });
});
