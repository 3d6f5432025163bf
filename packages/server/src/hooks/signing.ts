/**
 * Hook requests are signed exactly as webhooks are, so one check on the
 * backend (the Python SDK's `verify_webhook`) covers both:
 *
 *   Tidings-Webhook-Id: <id>
 *   Tidings-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>
 */
import { createHmac, randomBytes } from 'node:crypto';

export const ID_HEADER = 'tidings-webhook-id';
export const SIGNATURE_HEADER = 'tidings-signature';

/** A fresh request id: the same for every retry of one call, so the backend can deduplicate. */
export function newRequestId(): string {
  return `hk_${randomBytes(12).toString('base64url')}`;
}

/** The signature header's value for `body` at `unixSeconds`. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** Both headers for one attempt (each attempt is signed anew, so its timestamp is current). */
export function signedHeaders(secret: string, id: string, body: string, nowMs = Date.now()): Record<string, string> {
  return { [ID_HEADER]: id, [SIGNATURE_HEADER]: signature(secret, body, Math.floor(nowMs / 1000)) };
}
