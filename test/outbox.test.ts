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
