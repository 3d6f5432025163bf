/**
 * The server HTTP API under /api, for backends in any language. Every request
 * carries `Authorization: apikey <key>`; bodies are JSON, validated; every
 * error is a 4xx/5xx with `{"error": {"code", "message"}}` (docs/api.md).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CHANNEL_RULE, CloseCode, ErrorCode, MAX_JSON_DEPTH, type StreamPosition, isJsonObject, isValidChannel, jsonDeeperThan } from '@tidings/protocol';
import { z } from 'zod';
import { personalChannel } from '../channels/policy.js';
import type { ServerPublication } from '../engine/broker.js';
import type { NodeInfo } from '../engine/nodes.js';
import type { NodeContext } from '../node/context.js';
import { encodeSignal } from '../wire/encode.js';
import { HttpError, parseJsonBody, readJson, sendJson } from './json.js';

/** Publications in one `POST /api/batch`. */
const MAX_BATCH = 1000;

const BAD_CHANNEL = `invalid channel name: must be ${CHANNEL_RULE}`;
const channel = z.string().refine(isValidChannel, BAD_CHANNEL);
const idempotencyKey = z.string().min(1).max(128).optional();
const position = z.object({ offset: z.number().int().min(0), epoch: z.string().max(64) });

const schemas = {
  publish: z.object({ channel, data: z.unknown(), idempotencyKey }),
  broadcast: z.object({ channels: z.array(channel).min(1).max(1000), data: z.unknown(), idempotencyKey }),
  userPublish: z.object({ user: z.string().min(1).max(255), data: z.unknown(), idempotencyKey }),
  userUnsubscribe: z.object({ user: z.string().min(1).max(255), channel }),
  userDisconnect: z.object({ user: z.string().min(1).max(255), reconnect: z.boolean().default(false), reason: z.string().max(100).optional() }),
  channelOnly: z.object({ channel }),
  history: z.object({ channel, limit: z.number().int().min(0).optional(), since: position.optional() }),
  signal: z.object({ channel, data: z.unknown() }),
  batch: z.object({ publications: z.array(z.unknown()).min(1).max(MAX_BATCH) }),
  batchToChannel: z.object({ channel, data: z.unknown(), idempotencyKey }).strict(),
  batchToUser: z.object({ user: z.string().min(1).max(255), data: z.unknown(), idempotencyKey }).strict(),
};

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  // A malformed channel name is 102 here too, as on a socket (docs/protocol.md).
  const code = issue.message === BAD_CHANNEL ? ErrorCode.UnknownChannel : ErrorCode.BadRequest;
  throw new HttpError(400, code, `${issue.path.join('.') || 'body'}: ${issue.message}`);
}

function requireData(body: unknown): string {
  if (typeof body !== 'object' || body === null || !('data' in body)) throw new HttpError(400, ErrorCode.BadRequest, 'data: required');
  const { data } = body as { data: unknown };
  if (jsonDeeperThan(data)) throw new HttpError(400, ErrorCode.BadRequest, `data: nests deeper than ${MAX_JSON_DEPTH} levels`);
  return JSON.stringify(data);
}

const SCHEME = 'apikey ';

/** `header` starts with "apikey " in any case (no regex match object per request). */
function isScheme(header: string): boolean {
  for (let i = 0; i < SCHEME.length; i++) {
    const c = header.charCodeAt(i);
    const want = SCHEME.charCodeAt(i);
    // The letter itself, or its capital (want - 32); the space only as itself.
    if (c !== want && !(want >= 97 && c === want - 32)) return false;
  }
  return true;
}

/** `idempotencyKey` as the schema allows it. */
function validKey(key: unknown): key is string | undefined {
  return key === undefined || (typeof key === 'string' && key.length >= 1 && key.length <= 128);
}

/** Only the fields a publication to a channel may have (a batch item is strict). */
function onlyPublishFields(body: Record<string, unknown>): boolean {
  for (const k in body) if (k !== 'channel' && k !== 'data' && k !== 'idempotencyKey') return false;
  return true;
}

/**
 * The usual publish body, `{channel, data, idempotencyKey?}`, checked by hand
 * (the schema's parse allocated more than the publication itself); anything
 * else goes through the schema, which words the error. `strict`: other fields
 * are an error (batch items), as the schema says.
 */
function publishTarget(body: unknown, strict = false): { channel: string; key: string | undefined } {
  if (isJsonObject(body) && (!strict || onlyPublishFields(body))) {
    const { channel: ch, idempotencyKey: key } = body;
    if (isValidChannel(ch) && validKey(key)) return { channel: ch, key };
  }
  const p = parse(strict ? schemas.batchToChannel : schemas.publish, body);
  return { channel: p.channel, key: p.idempotencyKey };
}

/** Send a route's result, now or once its promise settles. */
function answer(res: ServerResponse, result: unknown): Promise<void> | void {
  if (result instanceof Promise) return result.then((r: unknown) => sendJson(res, 200, r));
  sendJson(res, 200, result);
}

export class Api {
  /** The API key's bytes, and a buffer as long where each request's candidate is written (no allocation per request). */
  private readonly key: Buffer;
  private readonly candidate: Buffer;

  constructor(
    private readonly ctx: NodeContext,
    /** This node's registry entry plus its local counters. */
    private readonly localNode: () => NodeInfo & Record<string, unknown>,
  ) {
    this.key = Buffer.from(ctx.config.apiKey, 'utf8');
    this.candidate = Buffer.alloc(this.key.length);
  }

  /** Constant-time check of `Authorization: apikey <key>` (the scheme in any case). */
  private authorize(header = ''): void {
    const ok = header.length > SCHEME.length && isScheme(header) && this.isKey(header.slice(SCHEME.length));
    if (!ok) throw new HttpError(401, ErrorCode.Unauthorized, 'missing or wrong API key');
  }

  /**
   * Whether `sent` is the key, in time that depends on the key's length and
   * on `sent`, never on how much of it matches: all of the key's bytes are
   * compared whatever `sent` is, and its length apart. Header values arrive
   * as latin1, one character per byte sent, so latin1 gives those bytes back
   * (a key with non-ASCII characters matches when sent as UTF-8). Cheaper
   * than hashing both sides, which was a visible part of a publish's cost.
   */
  private isKey(sent: string): boolean {
    this.candidate.fill(0);
    this.candidate.write(sent, 0, this.candidate.length, 'latin1');
    return timingSafeEqual(this.candidate, this.key) && sent.length === this.key.length;
  }

  /**
   * Answer an API request. Not async, and the answer is written as soon as
   * the route has it: a publish costs the body's read and the engine's
   * promise, no promise of ours around them (the publish path's garbage). A
   * refusal is thrown, or rejects what is returned.
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> | void {
    this.authorize(req.headers.authorization);
    const route = `${req.method} ${path}`;
    if (req.method !== 'POST') return answer(res, this.route(route, {}));
    return readJson(req, this.ctx.config.api.maxBodyBytes).then((body) => answer(res, this.route(route, body)));
  }

  /**
   * The same routes and checks for a request the HTTP fast lane parsed
   * (http/fast-lane): its result, or a promise of it; a refusal is thrown or
   * rejects. `body` is the whole body, already read.
   */
  answer(method: string, path: string, authorization: string | undefined, body: string): Promise<unknown> | unknown {
    this.authorize(authorization);
    return this.route(`${method} ${path}`, method === 'POST' ? parseJsonBody(body) : {});
  }

  private route(route: string, body: unknown): Promise<unknown> | unknown {
    switch (route) {
      case 'POST /api/publish':
        return this.publish(body);
      case 'POST /api/broadcast':
        return this.broadcast(body);
      case 'POST /api/batch':
        return this.batch(body);
      case 'POST /api/user/publish':
        return this.userPublish(body);
      case 'POST /api/user/disconnect':
        return this.userDisconnect(body);
      case 'POST /api/user/unsubscribe':
        return this.userUnsubscribe(body);
      case 'POST /api/presence':
        return this.presence(body);
      case 'POST /api/signal':
        return this.signal(body);
      case 'POST /api/history':
        return this.history(body);
      case 'GET /api/channels':
        return { channels: this.ctx.hub.channelList() };
      case 'GET /api/info':
        return this.info();
      default:
        throw new HttpError(404, ErrorCode.MethodNotFound, `no API route ${route}`);
    }
  }

  private engineReady(): void {
    if (!this.ctx.engine.ready()) throw new HttpError(503, ErrorCode.Unavailable, 'engine unavailable, retry later');
  }

  private rules(ch: string) {
    const rules = this.ctx.policy.rulesFor(ch);
    if (!rules) throw new HttpError(400, ErrorCode.UnknownChannel, `unknown namespace in ${ch}`);
    return rules;
  }

  /**
   * Publish one payload; engine failures become a retryable 503, never a false
   * success. Not async: the engine's promise is the answer, with no promise of
   * our own around it (the publish path's garbage); a refusal before it throws.
   */
  publishOne(ch: string, data: string, key: string | undefined): Promise<StreamPosition> {
    const rules = this.rules(ch);
    this.engineReady();
    return this.ctx.engine.broker.publish(ch, data, key ? { history: rules.history, idempotencyKey: key } : rules.publishOptions).catch((err: unknown) => {
      this.ctx.log.warn({ err, channel: ch }, 'publish failed');
      throw new HttpError(503, ErrorCode.Unavailable, 'publish failed, retry later');
    });
  }

  private publish(body: unknown): Promise<StreamPosition> {
    const p = publishTarget(body);
    return this.publishOne(p.channel, requireData(body), p.key);
  }

  private async broadcast(body: unknown) {
    const p = parse(schemas.broadcast, body);
    const data = requireData(body);
    const results = [];
    for (const ch of p.channels) {
      try {
        const key = p.idempotencyKey ? `${p.idempotencyKey}:${ch}` : undefined;
        results.push({ channel: ch, ...(await this.publishOne(ch, data, key)) });
      } catch (err) {
        const e = err as HttpError;
        results.push({ channel: ch, error: { code: e.code ?? ErrorCode.Internal, message: e.message } });
      }
    }
    return { results };
  }

  /**
   * Many publications, to many channels or users, in one request (a worker
   * reporting on many jobs per tick). Each is published in the order given,
   * and gets its own position or error in the answer, in the same order.
   */
  private async batch(body: unknown) {
    const { publications } = parse(schemas.batch, body);
    this.engineReady();
    // Started in order without waiting in between, so a Redis engine pipelines them.
    const results = await Promise.all(publications.map((item) => this.batchItem(item).catch(batchError)));
    return { results };
  }

  private async batchItem(item: unknown): Promise<StreamPositionResult> {
    const target = typeof item === 'object' && item !== null && 'user' in item ? 'user' : 'channel';
    if (target === 'user') {
      const p = parse(schemas.batchToUser, item);
      const ch = personalChannel(p.user);
      if (!ch) throw new HttpError(400, ErrorCode.BadRequest, 'user: too long to have a personal channel');
      return this.publishOne(ch, requireData(item), p.idempotencyKey);
    }
    const p = publishTarget(item, true);
    return this.publishOne(p.channel, requireData(item), p.key);
  }

  private async userPublish(body: unknown) {
    const p = parse(schemas.userPublish, body);
    const ch = personalChannel(p.user);
    if (!ch) throw new HttpError(400, ErrorCode.BadRequest, 'user: too long to have a personal channel');
    return this.publishOne(ch, requireData(body), p.idempotencyKey);
  }

  private async userDisconnect(body: unknown) {
    const p = parse(schemas.userDisconnect, body);
    const code = p.reconnect ? CloseCode.ForceReconnect : CloseCode.ForceDisconnect;
    this.engineReady();
    await this.ctx.engine.control.publish({ kind: 'disconnectUser', user: p.user, code, reason: p.reason ?? 'disconnected by server' });
    return {};
  }

  /** End a user's subscription to a channel on every node (access revoked, left the room). */
  private async userUnsubscribe(body: unknown) {
    const p = parse(schemas.userUnsubscribe, body);
    this.engineReady();
    await this.ctx.engine.control.publish({ kind: 'unsubscribeUser', user: p.user, channel: p.channel });
    return {};
  }

  private async presence(body: unknown) {
    const p = parse(schemas.channelOnly, body);
    if (!this.rules(p.channel).config.presence) throw new HttpError(400, ErrorCode.NotAvailable, 'presence is off for this channel');
    this.engineReady();
    return { clients: await this.ctx.engine.presence.list(p.channel) };
  }

  private async history(body: unknown) {
    const p = parse(schemas.history, body);
    const rules = this.rules(p.channel);
    if (rules.history.size === 0) throw new HttpError(400, ErrorCode.NotAvailable, 'history is off for this channel');
    this.engineReady();
    const h = await this.ctx.engine.broker.history(p.channel, { sinceOffset: p.since?.offset ?? 0, limit: Math.min(p.limit ?? rules.history.size, rules.history.size) });
    return { epoch: h.position.epoch, offset: h.position.offset, publications: h.publications.map(toWire) };
  }

  /** An ephemeral signal from the backend: to the channel's subscribers now, never stored (docs/api.md). */
  private async signal(body: unknown) {
    const p = parse(schemas.signal, body);
    if (p.data === undefined || p.data === null) throw new HttpError(400, ErrorCode.BadRequest, 'data: required, and not null');
    const data = requireData(body);
    this.rules(p.channel);
    this.engineReady();
    await this.ctx.engine.broker.publishSignal(p.channel, '', encodeSignal(p.channel, data, undefined));
    return {};
  }

  /** This node first (with its counters), then every other live node from the registry. */
  private async info() {
    const local = this.localNode();
    const others = await this.ctx.engine.nodes.list().catch(() => []);
    return { nodes: [local, ...others.filter((n) => n.id !== local.id)] };
  }
}

function toWire(p: ServerPublication) {
  return { channel: p.channel, offset: p.offset, epoch: p.epoch, data: JSON.parse(p.data) as unknown, ...(p.info ? { info: p.info } : {}), time: p.time };
}

type StreamPositionResult = { offset: number; epoch: string };

/** One failed item of a batch, as its entry in the answer. */
function batchError(err: unknown): { error: { code: number; message: string } } {
  if (err instanceof HttpError) return { error: { code: err.code, message: err.message } };
  return { error: { code: ErrorCode.Internal, message: 'internal error' } };
}
