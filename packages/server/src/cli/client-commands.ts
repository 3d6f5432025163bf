/** `tidings publish` (through the HTTP API) and `tidings subscribe` (through the client SDK). */
import { createClient } from '@tidings/client';
import { signToken } from '../auth/sign.js';
import { type CliValues, configFor } from './main.js';

function localHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

export async function publishCommand(values: CliValues, args: string[]): Promise<number> {
  const [channel, json] = args;
  if (!channel || json === undefined) throw new Error('publish: CHANNEL and JSON are required');
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new Error(`publish: ${json} is not valid JSON (quote strings: '"hello"')`);
  }
  const { config } = configFor(values);
  const base = values.url ?? `http://${localHost(config.host)}:${config.port}`;
  const res = await fetch(new URL('/api/publish', base), {
    method: 'POST',
    headers: { authorization: `apikey ${values['api-key'] ?? config.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel, data }),
  });
  const text = await res.text();
  if (!res.ok) {
    console.error(`publish failed: HTTP ${res.status} ${text}`);
    return 1;
  }
  process.stdout.write(`${text}\n`);
  return 0;
}

export async function subscribeCommand(values: CliValues, args: string[]): Promise<number> {
  const [channel] = args;
  if (!channel) throw new Error('subscribe: CHANNEL is required');
  const { config } = configFor(values);
  const url = values.url ?? `ws://${localHost(config.host)}:${config.port}/ws`;
  const secret = config.token.hmacSecret;
  const fixed = values.token;
  if (!fixed && !secret) throw new Error('subscribe: pass --token (the gateway does not use an HMAC secret)');
  // A fresh token per connect attempt keeps the subscriber alive across restarts and expiries.
  const getToken = () => fixed ?? signToken(secret!, { sub: values.sub ?? 'cli', channels: [channel], ttlSeconds: 3600 });
  const client = createClient({ url, getToken, name: 'tidings-cli' });
  client.on('state', ({ state }) => console.error(`[${state}]`));
  client.on('failed', ({ code, reason }) => console.error(`connection failed for good: ${code} ${reason}`));
  const sub = client.subscribe(channel, {
    onPublication: (pub) => process.stdout.write(`${JSON.stringify({ channel: pub.channel, offset: pub.offset, epoch: pub.epoch, data: pub.data })}\n`),
    onSubscribed: (ctx) => {
      if (ctx.wasRecovering && !ctx.recovered) console.error(`[${channel}: could not recover missed publications; the stream restarted at offset ${ctx.offset}]`);
      else console.error(`[subscribed to ${channel}${ctx.wasRecovering ? ', recovered' : ''}]`);
    },
    onError: (err) => console.error(`[${channel}: ${err.message}]`),
  });
  client.connect();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    client.on('failed', () => resolve());
  });
  sub.unsubscribe();
  client.disconnect();
  return client.state === 'failed' ? 1 : 0;
}
