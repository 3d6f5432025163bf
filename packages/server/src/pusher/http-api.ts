/**
 * Pusher's HTTP API (pusher.com/docs/channels/library_auth_reference/rest-api)
 * at `/apps/{id}/...`, for the Pusher server SDKs: trigger and batch trigger
 * (published into the Tidings channels, so native clients get them too),
 * channel queries, users of a presence channel, terminate a user's
 * connections. Every request is signed (signature.ts); every refusal is a
 * 4xx with `{"error": {"code", "message"}}` as on /api.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode, ErrorCode, jsonDeeperThan } from '@tidings/protocol';
import { z } from 'zod';
import type { ClientInfo } from '@tidings/protocol';
import { HttpError, sendError, sendJson } from '../http/json.js';
import type { NodeContext } from '../node/context.js';
import type { PusherApp, PusherApps } from './apps.js';
import { distinctUsers } from './members.js';
import { channelKind, isPusherChannel, sessionIdOf, toPusher, toTidings } from './names.js';
import { checkRequest } from './signature.js';

/** Pusher's own limits on one trigger. */
const MAX_CHANNELS = 100;
const MAX_BATCH = 10;

const channelName = z.string().refine(isPusherChannel, 'invalid channel name');
const eventSchema = z.object({
  name: z.string().min(1).max(200),
  data: z.string(),
  channels: z.array(channelName).min(1).max(MAX_CHANNELS).optional(),
  channel: channelName.optional(),
  socket_id: z.string().max(64).optional(),
  info: z.string().max(200).optional(),
});
type EventBody = z.output<typeof eventSchema>;
const batchSchema = z.object({ batch: z.array(eventSchema).min(1).max(MAX_BATCH) });

const ROUTE = /^\/apps\/([^/]+)\/(events|batch_events|channels|channels\/([^/]+)|channels\/([^/]+)\/users|users\/([^/]+)\/terminate_connections)$/;

function bad(message: string, status = 400): HttpError {
  return new HttpError(status, ErrorCode.BadRequest, message);
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw bad(`${issue.path.join('.') || 'body'}: ${issue.message}`);
}

/** The raw body (its MD5 is signed), at most `limit` bytes. */
function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once('end', () => (size > limit ? reject(bad(`body larger than ${limit} bytes`, 413)) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.once('error', () => reject(bad('request body aborted')));
  });
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw bad('malformed path');
  }
}

/** Event data as stored: parsed when it is JSON (so native clients get the value), else the string itself. */
function storedData(data: string): unknown {
  try {
    const v = JSON.parse(data) as unknown;
    return jsonDeeperThan(v) ? data : v;
  } catch {
    return data;
  }
}

/** The route a matched path names, its variable segment as `:x`. */
function routeName(m: RegExpExecArray): string {
  if (m[3] !== undefined) return 'channels/:x';
  if (m[4] !== undefined) return 'channels/:x/users';
  if (m[5] !== undefined) return 'users/:x/terminate_connections';
  return m[2]!;
}

export class PusherApi {
  constructor(
    private readonly ctx: NodeContext,
    private readonly apps: PusherApps,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    try {
      const m = ROUTE.exec(rawPath);
      if (!m) throw new HttpError(404, ErrorCode.MethodNotFound, `no Pusher API route ${rawPath}`);
      const app = this.apps.withId(m[1]!);
      if (!app) throw new HttpError(404, ErrorCode.MethodNotFound, 'no app has this id');
      const body = req.method === 'POST' ? await readText(req, this.ctx.config.api.maxBodyBytes) : '';
      const url = req.url ?? '';
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
      const check = checkRequest(app, req.method ?? 'GET', rawPath, query, body, Math.floor(Date.now() / 1000));
      if (!check.ok) throw new HttpError(check.status, ErrorCode.Unauthorized, check.message);
      sendJson(res, 200, await this.route(app, `${req.method} ${routeName(m)}`, m, query, body));
    } catch (err) {
      if (err instanceof HttpError) return sendError(res, err);
      throw err;
    }
  }

  private route(app: PusherApp, route: string, m: RegExpExecArray, query: URLSearchParams, body: string): Promise<unknown> {
    const json = () => {
      try {
        return JSON.parse(body || '{}') as unknown;
      } catch {
        throw bad('body is not valid JSON');
      }
    };
    switch (route) {
      case 'POST events':
        return this.trigger(app, parse(eventSchema, json()));
      case 'POST batch_events':
        return this.batch(app, parse(batchSchema, json()).batch);
      case 'GET channels':
        return this.channels(app, query);
      case 'GET channels/:x':
        return this.channel(app, decode(m[3]!), query);
      case 'GET channels/:x/users':
        return this.users(app, decode(m[4]!));
      case 'POST users/:x/terminate_connections':
        return this.terminate(decode(m[5]!));
      default:
        throw new HttpError(405, ErrorCode.MethodNotFound, `no Pusher API route ${route}`);
    }
  }

  // ------------------------------------------------------------ triggers

  private engineReady(): void {
    if (!this.ctx.engine.ready()) throw new HttpError(503, ErrorCode.Unavailable, 'engine unavailable, retry later');
  }

  private async trigger(app: PusherApp, e: EventBody): Promise<unknown> {
    const names = e.channels ?? (e.channel ? [e.channel] : []);
    if (names.length === 0) throw bad('channels: required');
    this.check(app, e);
    this.engineReady();
    await Promise.all(names.map((name) => this.publish(app, name, e)));
    return e.info ? { channels: Object.fromEntries(await Promise.all(names.map(async (n) => [n, await this.info(app, n, e.info!)]))) } : {};
  }

  private async batch(app: PusherApp, events: EventBody[]): Promise<unknown> {
    for (const e of events) {
      if (!e.channel) throw bad('batch: every event needs a channel');
      this.check(app, e);
    }
    this.engineReady();
    await Promise.all(events.map((e) => this.publish(app, e.channel!, e)));
    return { batch: events.map(() => ({})) };
  }

  private check(app: PusherApp, e: EventBody): void {
    if (Buffer.byteLength(e.data) > app.maxEventBytes) throw bad(`data larger than ${app.maxEventBytes} bytes`, 413);
    if (e.socket_id !== undefined && sessionIdOf(e.socket_id) === undefined) throw bad('socket_id is not a socket id');
  }

  /** One event into one channel's stream; a `socket_id` names the connection that must not get it. */
  private async publish(app: PusherApp, name: string, e: EventBody): Promise<void> {
    const channel = toTidings(app.id, name);
    if (channel === undefined) throw bad(`${name} names a user with no personal channel`);
    const rules = this.ctx.policy.rulesFor(channel);
    if (!rules) throw new HttpError(400, ErrorCode.UnknownChannel, `unknown namespace for ${name}`);
    const data = JSON.stringify({ event: e.name, data: storedData(e.data) });
    const exclude = e.socket_id === undefined ? undefined : sessionIdOf(e.socket_id);
    const info: ClientInfo | undefined = exclude === undefined ? undefined : { user: '', client: exclude };
    await this.ctx.engine.broker.publish(channel, data, info ? { history: rules.history, info } : { history: rules.history });
  }

  // ------------------------------------------------------------ queries

  /** `info=subscription_count,user_count` of one channel (subscriptions on this node, users on every node). */
  private async info(app: PusherApp, name: string, wanted: string): Promise<Record<string, number>> {
    const channel = toTidings(app.id, name);
    const out: Record<string, number> = {};
    if (channel === undefined) return out;
    const fields = wanted.split(',');
    if (fields.includes('subscription_count')) out.subscription_count = this.ctx.hub.subscriberCount(channel);
    if (fields.includes('user_count')) {
      if (channelKind(name) !== 'presence') throw bad('user_count is only available for presence channels');
      out.user_count = distinctUsers(await this.ctx.engine.presence.list(channel));
    }
    return out;
  }

  private async channels(app: PusherApp, query: URLSearchParams): Promise<unknown> {
    const prefix = query.get('filter_by_prefix') ?? '';
    const wanted = query.get('info') ?? '';
    if (wanted.includes('user_count') && !prefix.startsWith('presence-')) throw bad('info=user_count needs filter_by_prefix=presence-');
    const channels: Record<string, unknown> = {};
    for (const { channel } of this.ctx.hub.channelList()) {
      const name = toPusher(app.id, channel);
      if (name === undefined || !name.startsWith(prefix)) continue;
      channels[name] = wanted ? await this.info(app, name, wanted) : {};
    }
    return { channels };
  }

  private async channel(app: PusherApp, name: string, query: URLSearchParams): Promise<unknown> {
    if (!isPusherChannel(name)) throw bad('invalid channel name');
    const channel = toTidings(app.id, name)!;
    const local = this.ctx.hub.subscriberCount(channel);
    const users = channelKind(name) === 'presence' ? distinctUsers(await this.ctx.engine.presence.list(channel)) : 0;
    return { occupied: local > 0 || users > 0, ...(await this.info(app, name, query.get('info') ?? '')) };
  }

  private async users(app: PusherApp, name: string): Promise<unknown> {
    if (!isPusherChannel(name) || channelKind(name) !== 'presence') throw bad('users are only available for presence channels');
    const entries = await this.ctx.engine.presence.list(toTidings(app.id, name)!);
    return { users: [...new Set(entries.map((e) => e.user))].map((id) => ({ id })) };
  }

  /** Every connection of the user, on every node (the control bus), closed with 4009. */
  private async terminate(user: string): Promise<unknown> {
    if (user.length === 0 || user.length > 255) throw bad('user id must be 1–255 characters');
    this.engineReady();
    await this.ctx.engine.control.publish({ kind: 'disconnectUser', user, code: CloseCode.ForceDisconnect, reason: 'connections terminated by the app' });
    return {};
  }
}
