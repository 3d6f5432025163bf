/**
 * Who a Pusher connection says it is: the `channel_data` of a presence
 * subscription and the `user_data` of a sign-in, both JSON text signed by the
 * app's backend. Pusher's limits: a user id of at most 128 characters, user
 * info of at most 1 KB.
 */
const MAX_USER_ID = 128;
const MAX_USER_INFO_BYTES = 1024;

export type Identity = { ok: true; user: string; info: unknown } | { ok: false; message: string };

function object(text: string, what: string): Record<string, unknown> | string {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : `${what} must be a JSON object`;
  } catch {
    return `${what} is not JSON`;
  }
}

function identity(id: unknown, info: unknown, idField: string): Identity {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_USER_ID) return { ok: false, message: `${idField} must be a string of 1–${MAX_USER_ID} characters` };
  if (info !== undefined && Buffer.byteLength(JSON.stringify(info)) > MAX_USER_INFO_BYTES) return { ok: false, message: 'user_info is larger than 1 KB' };
  return { ok: true, user: id, info };
}

/** A presence subscription's `channel_data`: `user_id` (a string, or a number as Laravel sends) and `user_info`. */
export function presenceIdentity(channelData: string): Identity {
  const d = object(channelData, 'channel_data');
  if (typeof d === 'string') return { ok: false, message: d };
  const id = typeof d.user_id === 'number' && Number.isFinite(d.user_id) ? String(d.user_id) : d.user_id;
  return identity(id, d.user_info, 'user_id');
}

/** A sign-in's `user_data`: `id` (a string, as pusher-js requires) and optional `user_info`. */
export function signinIdentity(userData: string): Identity {
  const d = object(userData, 'user_data');
  if (typeof d === 'string') return { ok: false, message: d };
  return identity(d.id, d.user_info, 'user_data.id');
}
