/**
 * `tidings subscribe`: print every publication on a channel, one JSON line
 * each, until SIGINT/SIGTERM. The client SDK is loaded only here, and only
 * when this command runs, so the gateway itself never loads it.
 */
import { signToken } from '../auth/sign.js';
import type { Client } from '@tidings/client';
import type { LoadedConfig } from '../config/load.js';
import type { Command } from './command.js';
import { CliError, EXIT, usageError } from './errors.js';
import { type CliValues, configFor, gatewayUrl, need, tokenRequest } from './options.js';

interface Printed {
  channel: string;
  offset: number;
  epoch: string;
  data: unknown;
}

const print = (pub: Printed) =>
  process.stdout.write(`${JSON.stringify({ channel: pub.channel, offset: pub.offset, epoch: pub.epoch, data: pub.data })}\n`);

/** `#bob` is bob's personal channel: the server subscribes bob's connections to it, the client cannot. */
function personalUser(channel: string, values: CliValues): string | undefined {
  if (!channel.startsWith('#')) return undefined;
  const user = channel.slice(1);
  if (values.sub !== undefined && values.sub !== user) {
    throw usageError(`subscribe: ${channel} is the personal channel of ${user}; only ${user}'s connections receive it (drop --sub, or pass --sub ${user})`);
  }
  return user;
}

/** The SDK checks the channel name before sending anything: a bad name is a usage error. */
function subscribeOrExplain<T>(subscribe: () => T): T {
  try {
    return subscribe();
  } catch (err) {
    throw usageError(`subscribe: ${(err as Error).message}`);
  }
}

/** A fresh token per connect attempt (unless --token), so the subscriber survives restarts and expiries. */
function tokenSource(channel: string, personal: string | undefined, values: CliValues, loaded: LoadedConfig): () => string | Promise<string> {
  const fixed = values.token;
  if (fixed) return () => fixed;
  const secret = need(loaded.config.token.hmacSecret, 'the token secret', loaded, 'pass --token or set TIDINGS_TOKEN_SECRET');
  const claims = tokenRequest(loaded, { sub: personal ?? values.sub ?? 'cli', ttlSeconds: 3600, ...(personal ? {} : { channels: [channel] }) });
  return () => signToken(secret, claims);
}

interface Watch {
  /** Resolves on SIGINT/SIGTERM, or when the channel or the connection is refused for good. */
  done: Promise<CliError | undefined>;
  stop(): void;
}

/** Print the channel's publications until stopped or refused; notes on stderr. */
function watch(client: Client, channel: string, personal: boolean, url: string): Watch {
  let finish!: (failure?: CliError) => void;
  const done = new Promise<CliError | undefined>((resolve) => (finish = resolve));
  const fail = (message: string) => finish(new CliError(message, EXIT.failed));
  client.on('state', ({ state }) => console.error(`[${state}]`));
  client.on('failed', ({ code, reason }) => fail(`subscribe: connection refused for good by ${url}: ${code} ${reason}`));
  const onSubscribed = (ctx: { wasRecovering: boolean; recovered: boolean; offset: number }) => {
    if (ctx.wasRecovering && !ctx.recovered) console.error(`[${channel}: could not recover missed publications; the stream restarted at offset ${ctx.offset}]`);
    else console.error(`[subscribed to ${channel}${ctx.wasRecovering ? ', recovered' : ''}]`);
  };
  let unsubscribe = () => {};
  if (personal) {
    client.on('subscribed', (ctx) => ctx.channel === channel && onSubscribed(ctx));
    client.on('publication', (pub) => pub.channel === channel && print(pub));
  } else {
    const onError = (err: Error) => {
      if ((err as { temporary?: boolean }).temporary === false) fail(`subscribe: ${channel} refused: ${err.message}`);
      else console.error(`[${channel}: ${err.message}]`);
    };
    const sub = subscribeOrExplain(() => client.subscribe(channel, { onPublication: print, onSubscribed, onError }));
    unsubscribe = () => sub.unsubscribe();
  }
  const onSignal = () => finish();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unsubscribe();
    client.disconnect();
  };
  return { done, stop };
}

export const subscribeCommand: Command = {
  name: 'subscribe',
  summary: 'print every publication on a channel',
  usage: 'tidings subscribe CHANNEL',
  description: [
    'Connects to the local gateway (or --url) and prints each publication as a JSON line on stdout; state and',
    'recovery notes go to stderr. It reconnects by itself. A personal channel (#USER) is watched as that user.',
    'Exits 1 when the token or the channel is refused for good, 0 on SIGINT or SIGTERM.',
  ].join('\n'),
  options: ['url', 'token', 'sub', 'port', 'host', 'config', 'help'],
  env: ['TIDINGS_TOKEN_SECRET', 'TIDINGS_PORT', 'TIDINGS_HOST', 'TIDINGS_CONFIG', 'TIDINGS_DATA_DIR'],
  async run(values, args) {
    const [channel, extra] = args;
    if (!channel || extra !== undefined) throw usageError('subscribe: expected one CHANNEL, for example: tidings subscribe news');
    const personal = personalUser(channel, values);
    const loaded = configFor(values);
    const url = values.url ?? `${gatewayUrl(values, loaded, 'ws')}/ws`;
    const getToken = tokenSource(channel, personal, values, loaded);
    const { createClient } = await import('@tidings/client');
    const client = createClient({ url, getToken, name: 'tidings-cli' });
    const w = watch(client, channel, personal !== undefined, url);
    client.connect();
    const failure = await w.done;
    w.stop();
    if (failure) throw failure;
    return EXIT.ok;
  },
};
