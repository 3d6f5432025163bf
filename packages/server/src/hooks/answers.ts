/**
 * What a backend may answer to each hook (docs/backends.md), checked strictly:
 * exactly one of `{"result": {...}}` (yes, with the hook's fields) or
 * `{"error": {"code"?, "message"?}}` (no). Anything else is an answer error,
 * which the hook's fail mode handles like a timeout.
 */
import { ErrorCode, isValidChannel } from '@tidings/protocol';
import { z } from 'zod';
import { HookFailure } from './caller.js';

/** Longest session a backend may grant in one answer: 30 days, in seconds. */
const MAX_TTL_SECONDS = 30 * 86_400;
/** Channels one connect answer may join. */
export const MAX_CONNECT_CHANNELS = 1024;

const ttl = z.number().int().min(1).max(MAX_TTL_SECONDS);
const channel = z.string().refine(isValidChannel, 'not a valid channel name');

const refusal = z
  .object({
    /** An error code (100–199) for subscribe and publish refusals; 103 when absent. */
    code: z.number().int().min(100).max(199).optional(),
    message: z.string().max(200).optional(),
  })
  .strict();

const connectResult = z
  .object({
    user: z.string().min(1).max(256),
    channels: z.array(channel).max(MAX_CONNECT_CHANNELS).optional(),
    info: z.unknown().optional(),
    ttl: ttl.optional(),
  })
  .strict();
const subscribeResult = z.object({ info: z.unknown().optional() }).strict();
const publishResult = z.object({ data: z.unknown().optional() }).strict();
const refreshResult = z.object({ ttl, info: z.unknown().optional() }).strict();

export type ConnectResult = z.output<typeof connectResult>;
export type SubscribeResult = z.output<typeof subscribeResult>;
export type PublishResult = z.output<typeof publishResult>;
export type RefreshResult = z.output<typeof refreshResult>;

/** The backend's verdict: yes with its result, or no with a code and message. */
export type Answer<T> = { ok: true; value: T } | { ok: false; code: number; message: string };

const refusalAnswer = z.object({ error: refusal }).strict();
const resultAnswers = {
  connect: z.object({ result: connectResult }).strict(),
  subscribe: z.object({ result: subscribeResult }).strict(),
  publish: z.object({ result: publishResult }).strict(),
  refresh: z.object({ result: refreshResult }).strict(),
};
type Results = { connect: ConnectResult; subscribe: SubscribeResult; publish: PublishResult; refresh: RefreshResult };

/** Parse a backend's answer text; throws HookFailure('answer') saying what was wrong. */
export function parseAnswer<H extends keyof Results>(hook: H, text: string): Answer<Results[H]> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new HookFailure('answer', `${hook} hook answer is not JSON`);
  }
  const isRefusal = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'error' in raw;
  const schema = isRefusal ? refusalAnswer : resultAnswers[hook];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HookFailure('answer', `${hook} hook answer is invalid: ${describe(parsed.error)}`);
  const answer = parsed.data as { result: Results[H] } | { error: z.output<typeof refusal> };
  if ('result' in answer) return { ok: true, value: answer.result };
  return { ok: false, code: answer.error.code ?? ErrorCode.PermissionDenied, message: answer.error.message ?? `refused by the ${hook} hook` };
}

function describe(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'unexpected shape';
  if (issue.path.length === 0) return `${issue.message} (expected {"result": {...}} or {"error": {...}})`;
  return `${issue.path.join('.') || '(answer)'}: ${issue.message}`;
}
