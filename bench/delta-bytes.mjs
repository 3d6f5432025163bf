/**
 * Delta compression and conflation, in bytes and frames on the wire (issue 15).
 * One in-process gateway; for each stream, two raw WebSocket subscribers on
 * the same channel, one plain and one with `delta: true`, count the bytes of
 * every publication frame they receive (WebSocket header included). Bytes do
 * not depend on CPU speed, so these figures hold on a loaded machine.
 *
 * Streams:
 *   transcript  the meeting transcript as a page shows it: every publication is
 *               the whole transcript so far, the last line growing word by word
 *               (interim speech-to-text results), then a new line;
 *   job-status  a job's status object: progress, step, eta, a log tail;
 *   segments    the showcase's meeting channel as it is today: one event per
 *               segment, nothing repeated (the case deltas cannot help).
 * Then conflation: a subscriber asking `conflate: 100` on a 200/s stream.
 *
 * Usage: node bench/delta-bytes.mjs
 */
import WebSocket from 'ws';
import { Gateway, makeConfig, signToken } from '@tidings/server';

const SECRET = 'bench-secret-0123456789-0123456789-abc';
const API_KEY = 'bench-api-key-0123456789';

const WORDS =
  'so the plan for the quarter is to ship the transcription pipeline first then alignment and the summary we agreed that the latency budget is two seconds end to end and that the worker reports progress for every stage'.split(
    ' ',
  );
const SPEAKERS = ['Ana Lima', 'Ben Okafor', 'Chloé Martin'];

function* transcript() {
  const lines = [];
  let t = 0;
  for (let line = 0; line < 24; line++) {
    const words = 6 + ((line * 5) % 9);
    const current = { index: line, speaker: SPEAKERS[line % 3], start: t, end: t, text: '', final: false };
    lines.push(current);
    for (let w = 0; w < words; w++) {
      current.text += (w ? ' ' : '') + WORDS[(line * 7 + w) % WORDS.length];
      current.end = t + w * 0.4;
      current.final = w === words - 1;
      yield { meeting: 'weekly-sync', status: 'transcribing', lines };
    }
    t = current.end + 1;
  }
}

function* jobStatus() {
  const steps = ['download', 'decode', 'diarize', 'transcribe', 'align', 'summarize'];
  for (let i = 0; i <= 200; i++) {
    const step = steps[Math.min(steps.length - 1, Math.floor(i / 34))];
    yield {
      job: 'job-7f3a9c',
      owner: 'user-1842',
      state: i === 200 ? 'done' : 'running',
      step,
      progress: Math.round((i / 200) * 1000) / 10,
      eta: Math.max(0, 400 - i * 2),
      updatedAt: 1764660000000 + i * 500,
      log: [`${step}: chunk ${i - 1} ok`, `${step}: chunk ${i} ok`],
    };
  }
}

function* segments() {
  let t = 0;
  for (let index = 0; index < 40; index++) {
    const text = WORDS.slice(index % 20, (index % 20) + 8 + (index % 5)).join(' ');
    yield { run: 3, type: 'segment', segment: { index, speaker: SPEAKERS[index % 3], start: t, end: t + 4, text } };
    t += 5;
  }
}

const frameBytes = (payload) => payload + (payload < 126 ? 2 : payload < 65536 ? 4 : 10);

class Reader {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.pubs = 0;
    this.bytes = 0;
    this.waiters = new Map();
    this.nextId = 1;
    this.ws.on('message', (data) => {
      const f = JSON.parse(String(data));
      if (f.type === 'pub') {
        this.pubs++;
        this.bytes += frameBytes(data.length);
      } else if (f.id) this.waiters.get(f.id)?.(f);
    });
  }
  async open() {
    await new Promise((r, j) => this.ws.once('open', r).once('error', j));
    return this;
  }
  call(method, params) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((r) => this.waiters.set(id, r));
  }
}

async function until(cond, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const config = makeConfig({
  host: '127.0.0.1',
  port: 0,
  apiKey: API_KEY,
  token: { hmacSecret: SECRET },
  log: { level: 'warn' },
  namespaces: { progress: { conflate: 100 } },
});
const gw = new Gateway({ config });
const port = await gw.listen();
const publish = async (channel, data) => {
  const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
    method: 'POST',
    headers: { authorization: `apikey ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel, data }),
  });
  if (res.status !== 200) throw new Error(`publish: ${res.status}`);
};
async function reader(user, channel, params) {
  const r = await new Reader(`ws://127.0.0.1:${port}/ws`).open();
  await r.call('connect', { token: await signToken(SECRET, { sub: user, ttlSeconds: 600 }) });
  const reply = await r.call('subscribe', { channel, ...params });
  if (reply.error) throw new Error(JSON.stringify(reply.error));
  return r;
}

const rows = [];
for (const [name, stream] of [
  ['transcript', transcript],
  ['job-status', jobStatus],
  ['segments', segments],
]) {
  const channel = `bench:${name}`;
  const plain = await reader(`${name}-plain`, channel, {});
  const delta = await reader(`${name}-delta`, channel, { delta: true });
  let n = 0;
  for (const value of stream()) {
    await publish(channel, value);
    n++;
  }
  await until(() => plain.pubs === n && delta.pubs === n);
  rows.push({ stream: name, publications: n, plainBytes: plain.bytes, deltaBytes: delta.bytes, ratio: delta.bytes / plain.bytes });
  plain.ws.close();
  delta.ws.close();
}

console.log('| stream | publications | bytes, plain | bytes, `delta: true` | delta / plain |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.stream} | ${r.publications} | ${r.plainBytes.toLocaleString('en')} | ${r.deltaBytes.toLocaleString('en')} | ${r.ratio.toFixed(3)} |`);
}

// Conflation: 200 publications/s for 2 s; the asking subscriber should see about one per 100 ms.
const every = await reader('all', 'progress:job', {});
const conflated = await reader('conflated', 'progress:job', { conflate: 100 });
const t0 = performance.now();
let sent = 0;
while (performance.now() - t0 < 2000) {
  await publish('progress:job', { progress: sent++ });
  const due = t0 + sent * 5;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
const seconds = (performance.now() - t0) / 1000;
await until(() => every.pubs === sent);
await new Promise((r) => setTimeout(r, 250)); // the last interval
console.log(
  `\nconflation: ${sent} publications in ${seconds.toFixed(2)} s; plain subscriber ${every.pubs} frames, ` +
    `\`conflate: 100\` subscriber ${conflated.pubs} frames (${(conflated.pubs / seconds).toFixed(1)}/s)`,
);
every.ws.close();
conflated.ws.close();
await gw.close(1000);
