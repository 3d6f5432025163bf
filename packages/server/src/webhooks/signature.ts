/**
 * The signature on every webhook request, as tidings.verify_webhook (the
 * Python SDK) checks it:
 *   Tidings-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>
 * The timestamp is signed too, so a receiver can refuse old requests (replays).
 * While a secret is rotated there is one `v1=` per secret, and any one that
 * matches passes.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'Tidings-Signature';
export const ID_HEADER = 'Tidings-Webhook-Id';

export function signatureHeader(secrets: string | readonly string[], body: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const all = typeof secrets === 'string' ? [secrets] : secrets;
  const v1 = all.map((secret) => `,v1=${createHmac('sha256', secret).update(`${nowSeconds}.`).update(body).digest('hex')}`);
  return `t=${nowSeconds}${v1.join('')}`;
}
