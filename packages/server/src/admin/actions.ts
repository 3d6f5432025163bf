/**
 * What an operator can do from the dashboard, straight on the engine: look
 * at a channel (presence, recent history, local subscribers), publish a test
 * message, disconnect a user on every node. Reserved channels are refused
 * like unknown namespaces, as on the HTTP API.
 */
import { CHANNEL_RULE, CloseCode, ErrorCode, MAX_JSON_DEPTH, isValidChannel, jsonDeeperThan } from '@tidings/protocol';
import type { ChannelRules } from '../channels/policy.js';
import type { ServerPublication } from '../engine/broker.js';
import { HttpError } from '../http/json.js';
import type { NodeContext } from '../node/context.js';

/** Publications shown in the channel view. */
const RECENT = 20;
const MAX_USER = 255;
/** Presence entries shown (the total is always given). */
const MAX_PRESENCE = 200;

export interface ChannelView {
  channel: string;
  namespace: string;
  subscribersHere: number;
  presence: { enabled: boolean; total: number; clients: Array<{ client: string; user: string }> };
  history: { enabled: boolean; offset: number; epoch: string; publications: Array<{ offset: number; time: number; data: unknown; user?: string }> };
}

export class AdminActions {
  constructor(private readonly ctx: NodeContext) {}

  async inspect(body: unknown): Promise<ChannelView> {
    const channel = channelOf(body);
    const rules = this.rules(channel);
    this.engineReady();
    const { engine, hub } = this.ctx;
    const clients = rules.config.presence ? await engine.presence.list(channel) : [];
    const view: ChannelView = {
      channel,
      namespace: rules.namespace,
      subscribersHere: hub.subscriberCount(channel),
      presence: { enabled: rules.config.presence, total: clients.length, clients: clients.slice(0, MAX_PRESENCE).map((c) => ({ client: c.client, user: c.user })) },
      history: { enabled: rules.history.size > 0, offset: 0, epoch: '', publications: [] },
    };
    if (rules.history.size > 0) await this.recent(channel, view);
    return view;
  }

  /** The last RECENT publications, newest first. */
  private async recent(channel: string, view: ChannelView): Promise<void> {
    const { broker } = this.ctx.engine;
    const top = await broker.history(channel, { limit: 0 });
    const since = Math.max(0, top.position.offset - RECENT);
    const h = await broker.history(channel, { sinceOffset: since, limit: RECENT });
    view.history = { ...view.history, ...h.position, publications: h.publications.map(shown).reverse() };
  }

  async publish(body: unknown): Promise<{ offset: number; epoch: string }> {
    const channel = channelOf(body);
    const data = dataOf(body);
    const rules = this.rules(channel);
    this.engineReady();
    try {
      return await this.ctx.engine.broker.publish(channel, data, { history: rules.history });
    } catch (err) {
      this.ctx.log.warn({ err, channel }, 'admin publish failed');
      throw new HttpError(503, ErrorCode.Unavailable, 'publish failed, retry later');
    }
  }

  async disconnect(body: unknown): Promise<Record<string, never>> {
    const { user, reconnect } = (body ?? {}) as { user?: unknown; reconnect?: unknown };
    if (typeof user !== 'string' || user.length === 0 || user.length > MAX_USER) throw new HttpError(400, ErrorCode.BadRequest, `user: 1–${MAX_USER} characters`);
    this.engineReady();
    const code = reconnect === true ? CloseCode.ForceReconnect : CloseCode.ForceDisconnect;
    await this.ctx.engine.control.publish({ kind: 'disconnectUser', user, code, reason: 'disconnected by an operator' });
    return {};
  }

  private rules(channel: string): ChannelRules {
    const rules = this.ctx.policy.rulesFor(channel);
    if (!rules) throw new HttpError(400, ErrorCode.UnknownChannel, `unknown namespace in ${channel}`);
    return rules;
  }

  private engineReady(): void {
    if (!this.ctx.engine.ready()) throw new HttpError(503, ErrorCode.Unavailable, 'engine unavailable, retry later');
  }
}

function channelOf(body: unknown): string {
  const { channel } = (body ?? {}) as { channel?: unknown };
  if (!isValidChannel(channel)) throw new HttpError(400, ErrorCode.UnknownChannel, `channel: must be ${CHANNEL_RULE}`);
  return channel;
}

function dataOf(body: unknown): string {
  if (typeof body !== 'object' || body === null || !('data' in body)) throw new HttpError(400, ErrorCode.BadRequest, 'data: required');
  const { data } = body as { data: unknown };
  if (jsonDeeperThan(data)) throw new HttpError(400, ErrorCode.BadRequest, `data: nests deeper than ${MAX_JSON_DEPTH} levels`);
  return JSON.stringify(data);
}

function shown(p: ServerPublication) {
  return { offset: p.offset, time: p.time, data: JSON.parse(p.data) as unknown, ...(p.info ? { user: p.info.user } : {}) };
}
