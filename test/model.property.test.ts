/**
 * Model test: random sequences of connect / subscribe / unsubscribe /
 * publish (API, to a user, from a client) / disconnect / reconnect for users
 * with different permissions, run against a real gateway on 127.0.0.1 and
 * against a model a few lines long. Every command's answer must be the one the
 * model predicts, and at the end every user must have received exactly what
 * its subscriptions allowed while they lasted (recovered on reconnect), in
 * order, and nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channelUserId } from '@tidings/protocol';
import { RawPeer, type TestGateway, startTestGateway } from './helpers.js';

const USERS = [
  { name: 'alice', channels: ['vip:gold'] },
  { name: 'bob', channels: ['vip:*'] },
  { name: 'carol', channels: [] },
  { name: 'd,e', channels: [] }, // an id that is not its own channel form
] as const;
type User = (typeof USERS)[number]['name'];
const personal = (u: User) => `#${channelUserId(u)}`;

const CHANNELS = [
  'open',
  'pub:a',
  'pub:b',
  'vip:gold',
  'vip:silver',
  'none:x',
  'dm:#alice,bob',
  'dm:#bob,carol',
  '#d,e', // users "d" and "e", not user "d,e"
  ...USERS.map((u) => personal(u.name)),
];

const NAMESPACES = {
  pub: { publish: 'subscribers' },
  vip: { subscribe: 'claims' },
  none: { subscribe: 'none' },
  dm: { publish: 'subscribers' },
};

// ---- the model: who may do what (docs/configuration.md's rules, written out again) ----

function limitedTo(channel: string): string[] | undefined {
  const hash = channel.indexOf('#');
  return hash < 0 ? undefined : channel.slice(hash + 1).split(',');
}

function granted(u: User, channel: string): boolean {
  const claims: readonly string[] = USERS.find((x) => x.name === u)!.channels;
  return claims.some((g) => g === channel || (g.endsWith('*') && channel.startsWith(g.slice(0, -1))));
}

function maySubscribe(u: User, channel: string): boolean {
  const users = limitedTo(channel);
  if (users) return users.includes(channelUserId(u)!);
  if (granted(u, channel)) return true;
  return !channel.startsWith('vip:') && !channel.startsWith('none:');
}

function mayPublish(u: User, channel: string, subscribed: boolean): boolean {
  const users = limitedTo(channel);
  if (users && !users.includes(channelUserId(u)!)) return false;
  return (channel.startsWith('pub:') || channel.startsWith('dm:')) && subscribed;
}

// ---- actions ----

type Action =
  | { t: 'connect' | 'disconnect' | 'reconnect' | 'toUser'; u: User }
  | { t: 'subscribe' | 'unsubscribe' | 'clientPublish'; u: User; c: string }
  | { t: 'publish'; c: string };

const user = fc.constantFrom(...USERS.map((u) => u.name));
const channel = fc.constantFrom(...CHANNELS);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('connect' as const), u: user }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('disconnect' as const), u: user }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('reconnect' as const), u: user }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('subscribe' as const), u: user, c: channel }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('unsubscribe' as const), u: user, c: channel }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('publish' as const), c: channel }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('toUser' as const), u: user }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('clientPublish' as const), u: user, c: channel }) },
);

interface Position {
  offset: number;
  epoch: string;
}

/** One user as the model sees it, and its live connection. */
interface UserState {
  peer?: RawPeer;
  /** Channels subscribed on the live connection (the personal one included). */
  subs: Set<string>;
  /** What a client would send back on reconnect: the subscriptions and positions of its last connection. */
  resume?: Map<string, Position>;
  expected: number[];
  /** Publications (their `k`) received, across all of the user's connections. */
  received: number[];
}

class Run {
  readonly users = new Map<User, UserState>(USERS.map((u) => [u.name, { subs: new Set(), expected: [], received: [] }]));
  /** Every publication so far, by channel, in offset order. */
  private readonly logs = new Map<string, number[]>();
  private nextK = 0;

  constructor(private readonly t: TestGateway) {}

  async step(a: Action): Promise<void> {
    switch (a.t) {
      case 'connect':
        return this.connect(a.u, false);
      case 'reconnect':
        await this.disconnect(a.u);
        return this.connect(a.u, true);
      case 'disconnect':
        return this.disconnect(a.u);
      case 'subscribe':
        return this.subscribe(a.u, a.c);
      case 'unsubscribe':
        return this.unsubscribe(a.u, a.c);
      case 'publish':
        return this.apiPublish(a.c, '/api/publish', { channel: a.c });
      case 'toUser':
        return this.apiPublish(personal(a.u), '/api/user/publish', { user: a.u });
      case 'clientPublish':
        return this.clientPublish(a.u, a.c);
    }
  }

  private state(u: User): UserState {
    return this.users.get(u)!;
  }

  /** A publication the gateway accepted: the model delivers it to every connected subscriber. */
  private delivered(channel: string, k: number): void {
    const log = this.logs.get(channel) ?? [];
    log.push(k);
    this.logs.set(channel, log);
    for (const s of this.users.values()) if (s.peer && s.subs.has(channel)) s.expected.push(k);
  }

  private async connect(u: User, resume: boolean): Promise<void> {
    const s = this.state(u);
    if (s.peer) return;
    const positions = resume ? s.resume : undefined;
    const own = personal(u);
    const subs = [...(positions ?? [])].filter(([c]) => c !== own).map(([c, since]) => ({ channel: c, since }));
    const serverSubs = positions?.has(own) ? { [own]: positions.get(own) } : undefined;
    const peer = this.watch(u, await new RawPeer(this.t.wsUrl).open());
    const reply = await peer.call('connect', { token: await this.t.token(u, { channels: [...USERS.find((x) => x.name === u)!.channels] }), subs, serverSubs });
    expect(reply.result, `connect ${u}`).toBeDefined();
    s.peer = peer;
    s.subs = new Set([...subs.map((x) => x.channel), own]);
    // What the model says the reply recovers, in the reply's order: the client's subscriptions, then the personal channel.
    for (const [c, since] of [...subs.map((x) => [x.channel, x.since] as const), ...(serverSubs ? [[own, serverSubs[own]!] as const] : [])]) {
      s.expected.push(...(this.logs.get(c) ?? []).slice(since.offset));
    }
    for (const sub of [...reply.result.subs, ...reply.result.serverSubs]) {
      expect(sub.error, `resubscribe ${u} to ${sub.channel}`).toBeUndefined();
      if (sub.wasRecovering) expect(sub.recovered, `recovery of ${sub.channel} for ${u}`).toBe(true);
      for (const p of sub.publications) s.received.push(p.data.k);
    }
  }

  /** Collect the user's live publications, and keep what a client keeps to resume. */
  private watch(u: User, peer: RawPeer): RawPeer {
    const s = this.state(u);
    const positions = new Map<string, Position>();
    peer.ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.type === 'pub') {
        s.received.push(f.data.k);
        positions.set(f.channel, { offset: f.offset, epoch: f.epoch });
      }
      for (const sub of f.id === undefined ? [] : subscribeResults(f)) {
        const last = sub.publications.at(-1);
        positions.set(sub.channel, { offset: last?.offset ?? sub.offset, epoch: sub.epoch });
      }
    });
    peer.ws.once('close', () => {
      // Resume what was subscribed when the connection ended.
      s.resume = new Map([...positions].filter(([c]) => s.subs.has(c)));
    });
    return peer;
  }

  private async disconnect(u: User): Promise<void> {
    const s = this.state(u);
    if (!s.peer) return;
    const peer = s.peer;
    peer.close();
    await peer.closed;
    s.peer = undefined;
  }

  private async subscribe(u: User, c: string): Promise<void> {
    const s = this.state(u);
    if (!s.peer) return;
    const reply = await s.peer.call('subscribe', { channel: c });
    const want = !maySubscribe(u, c) ? 103 : s.subs.has(c) ? 105 : undefined;
    expect(reply.error?.code, `${u} subscribes to ${c}`).toBe(want);
    if (want === undefined) s.subs.add(c);
  }

  private async unsubscribe(u: User, c: string): Promise<void> {
    const s = this.state(u);
    if (!s.peer) return;
    expect((await s.peer.call('unsubscribe', { channel: c })).result).toEqual({});
    s.subs.delete(c);
  }

  private async apiPublish(c: string, path: string, body: object): Promise<void> {
    const k = this.nextK++;
    const r = await this.t.api(path, { ...body, data: { k } });
    expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(200);
    this.delivered(c, k);
  }

  private async clientPublish(u: User, c: string): Promise<void> {
    const s = this.state(u);
    if (!s.peer) return;
    const k = this.nextK++;
    const reply = await s.peer.call('publish', { channel: c, data: { k } });
    const allowed = mayPublish(u, c, s.subs.has(c));
    expect(reply.error?.code, `${u} publishes to ${c}`).toBe(allowed ? undefined : 103);
    if (allowed) this.delivered(c, k);
  }

  /** After one round trip on every connection nothing is in flight; then compare. */
  async check(): Promise<void> {
    for (const s of this.users.values()) if (s.peer) await s.peer.call('unsubscribe', { channel: 'fence' });
    for (const [u, s] of this.users) expect(s.received, `what ${u} received`).toEqual(s.expected);
  }

  async close(): Promise<void> {
    for (const u of this.users.keys()) await this.disconnect(u);
  }
}

function subscribeResults(f: any): any[] {
  if (!f.result) return [];
  if (Array.isArray(f.result.subs)) return [...f.result.subs, ...f.result.serverSubs].filter((s: any) => !s.error);
  return typeof f.result.epoch === 'string' && Array.isArray(f.result.publications) && f.result.channel ? [f.result] : [];
}

describe('the gateway against a model of permissions and delivery', () => {
  it('delivers to every user exactly what its permissions allow, in order, across reconnects', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: 60, size: 'max' }), async (actions) => {
        const t = await startTestGateway({ namespaces: NAMESPACES });
        const run = new Run(t);
        try {
          // Everyone starts connected, so most random steps act on a live connection.
          for (const u of USERS) await run.step({ t: 'connect', u: u.name });
          for (const a of actions) await run.step(a);
          await run.check();
        } finally {
          await run.close();
          await t.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 180_000);

  it('the model is not trivially satisfied: someone receives something in a typical run', async () => {
    const t = await startTestGateway({ namespaces: NAMESPACES });
    const run = new Run(t);
    try {
      for (const a of [
        { t: 'connect', u: 'bob' },
        { t: 'subscribe', u: 'bob', c: 'vip:silver' },
        { t: 'publish', c: 'vip:silver' },
        { t: 'disconnect', u: 'bob' },
        { t: 'publish', c: 'vip:silver' },
        { t: 'toUser', u: 'bob' },
        { t: 'reconnect', u: 'bob' },
        { t: 'publish', c: 'vip:silver' },
      ] as Action[])
        await run.step(a);
      await run.check();
      expect(run.users.get('bob')!.received).toEqual([0, 1, 2, 3]);
    } finally {
      await run.close();
      await t.close();
    }
  });
});
