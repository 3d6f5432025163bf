/**
 * The signature on every webhook request, as tidings.verify_webhook (the
 * Python SDK) checks it:
 *   Tidings-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>
 * The timestamp is signed too, so a receiver can refuse old requests (replays).
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'Tidings-Signature';
export const ID_HEADER = 'Tidings-Webhook-Id';

export function signatureHeader(secret: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${nowSeconds}.`).update(body).digest('hex');
  return `t=${nowSeconds},v1=${v1}`;
}
