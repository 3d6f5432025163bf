/**
 * Seed 003: audio analysis as a streamed RPC. The gateway's RPC proxy POSTs
 * each `analyze` call here; we answer NDJSON, one partial result per line,
 * then the result. A cancel closes the request, and the loop stops.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

export const CLIPS = [
  { id: 'street', title: 'Street corner', seconds: 4, bpm: 0, labels: ['traffic', 'footsteps', 'voices'] },
  { id: 'cafe', title: 'Café at noon', seconds: 6, bpm: 0, labels: ['chatter', 'cups', 'espresso machine'] },
  { id: 'drums', title: 'Drum loop', seconds: 3, bpm: 124, labels: ['kick', 'snare', 'hi-hat'] },
  { id: 'birds', title: 'Morning birds', seconds: 5, bpm: 0, labels: ['blackbird', 'wind', 'leaves'] },
] as const;

const STEPS = ['decoding', 'spectrum', 'onsets', 'classifying'] as const;

function keyMatches(given: string | string[] | undefined, expected: string): boolean {
  const a = Buffer.from(typeof given === 'string' ? given : '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function handleAnalyze(req: IncomingMessage, res: ServerResponse, body: unknown, gatewayKey: string, stepMs: number): Promise<void> {
  const line = (v: unknown) => res.write(`${JSON.stringify(v)}\n`);
  if (!keyMatches(req.headers['x-gateway-key'], gatewayKey)) {
    res.writeHead(403, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ error: { code: 103, message: 'not the gateway' } }));
  }
  const call = body as { method?: string; user?: string; data?: { clip?: string } };
  const clip = CLIPS.find((c) => c.id === call.data?.clip);
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  if (!clip) return void res.end(`${JSON.stringify({ error: { code: 422, message: `unknown clip ${JSON.stringify(call.data?.clip)}` } })}\n`);
  let closed = false;
  res.on('close', () => (closed = true));
  const frames = clip.seconds * 2;
  let loudness = -30;
  // Acknowledge at once: the client measures how long a call takes to start, not how long the first frame takes to compute.
  line({ chunk: { step: 'queued', progress: 0, at: 0, loudness, label: clip.labels[0] } });
  for (let i = 1; i <= frames && !closed; i++) {
    await new Promise((r) => setTimeout(r, stepMs));
    if (closed) break;
    loudness = Math.round((-30 + 12 * Math.sin(i / 2) + i * 0.4) * 10) / 10;
    const step = STEPS[Math.min(STEPS.length - 1, Math.floor(((i - 1) / frames) * STEPS.length))]!;
    line({ chunk: { step, progress: Math.round((i / frames) * 100), at: i / 2, loudness, label: clip.labels[i % clip.labels.length] } });
  }
  if (closed) return;
  line({ result: { clip: clip.id, title: clip.title, seconds: clip.seconds, bpm: clip.bpm || null, loudness, labels: clip.labels } });
  res.end();
}
