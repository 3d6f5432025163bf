/**
 * How Tidings lays channels out in Redis, and the Lua scripts that touch
 * them. One source of truth for the gateway's Redis engine and for workers
 * that publish straight into Redis.
 *
 * Per channel (the `{channel}` hash tag keeps a channel's keys in one cluster slot):
 *   <prefix>{ch}:s   stream of publications, id `<offset>-0`, field p = payload
 *   <prefix>{ch}:m   hash: e = epoch, o = top offset
 *   <prefix>{ch}:p   pub/sub channel (SPUBLISH where the server has it)
 *   <prefix>{ch}:i:K idempotency key K → "<offset>:<epoch>"
 *   <prefix>{ch}:pr / :pz   presence entries (hash) and their expiry (zset)
 * Shared: <prefix>control (pub/sub between nodes), <prefix>nodes (node registry hash).
 *
 * Payload (pub/sub message and stream entry): "<offset>\n<epoch>\n<time>\n<info JSON or empty>\n<data JSON>",
 * so a receiver slices the data out without parsing it.
 */
export const DEFAULT_PREFIX = 'tidings:';

export function channelKeys(prefix: string, channel: string) {
  const base = `${prefix}{${channel}}:`;
  return {
    stream: `${base}s`,
    meta: `${base}m`,
    pubsub: `${base}p`,
    idempotency: (key: string) => `${base}i:${key}`,
    presence: `${base}pr`,
    presenceExpiry: `${base}pz`,
  };
}

/**
 * One publication, as a Lua function both publish scripts share. Atomic
 * within its script: next offset, XADD, pub/sub, in one step, so delivery
 * order is offset order; a lost meta hash starts a new epoch and drops the
 * stale stream, so old positions can never match new data. A stream behind
 * the fence in the fence's epoch was rolled back (a failover lost writes): it
 * starts a new epoch too, so no offset is given twice. Returns "<offset>:<epoch>".
 */
const PUBLISH_ONE = `
local function publish_one(k_stream, k_meta, k_idem, k_pubsub, tail, size, ttl, meta_ttl, idem_ttl, new_epoch, publish_cmd, fence_epoch, fence_offset)
  idem_ttl = tonumber(idem_ttl)
  if idem_ttl > 0 then
    local seen = redis.call('GET', k_idem)
    if seen then return seen end
  end
  size = tonumber(size)
  local offset, epoch = 0, ''
  if size > 0 then
    local meta = redis.call('HMGET', k_meta, 'e', 'o')
    epoch = meta[1]
    if epoch and epoch == fence_epoch and tonumber(meta[2] or '0') < tonumber(fence_offset) then epoch = nil end
    if not epoch then
      epoch = new_epoch
      redis.call('DEL', k_stream)
      redis.call('HSET', k_meta, 'e', epoch, 'o', 0)
    end
    offset = redis.call('HINCRBY', k_meta, 'o', 1)
    redis.call('EXPIRE', k_meta, meta_ttl)
  end
  local msg = offset .. '\\n' .. epoch .. '\\n' .. tail
  if size > 0 then
    redis.call('XADD', k_stream, 'MAXLEN', size, offset .. '-0', 'p', msg)
    redis.call('EXPIRE', k_stream, ttl)
  end
  redis.call(publish_cmd, k_pubsub, msg)
  local result = offset .. ':' .. epoch
  if idem_ttl > 0 then redis.call('SET', k_idem, result, 'EX', idem_ttl) end
  return result
end
`;

/**
 * KEYS: stream, meta, idempotency key, pub/sub channel.
 * ARGV: payload tail ("<time>\n<info>\n<data>"), history size, history ttl (s),
 *       meta ttl (s), idempotency ttl (s, 0 = none), epoch to use if the stream
 *       is new, publish command (SPUBLISH or PUBLISH), and optionally the
 *       position the caller has already seen ("fence": epoch, offset).
 * Returns "<offset>:<epoch>" (publish_one above).
 */
export const PUBLISH_SCRIPT = `${PUBLISH_ONE}
return publish_one(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8] or '', ARGV[9] or '0')
`;

/**
 * Many publications in one call, in order: PUBLISH_SCRIPT's work once per
 * publication, one script call instead of N (on a cluster, all keys must hash
 * to one slot).
 * KEYS: PUBLISH_SCRIPT's 4 keys per publication; ARGV: its 9 arguments per
 * publication, in the same order.
 * Returns one string per publication: "<offset>:<epoch>", or "E" and the error
 * for a publication that failed (the others still happen).
 */
export const PUBLISH_BATCH_SCRIPT = `${PUBLISH_ONE}
local out = {}
for j = 0, #KEYS / 4 - 1 do
  local k, a = j * 4, j * 9
  local ok, res = pcall(publish_one, KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], unpack(ARGV, a + 1, a + 9))
  if ok then out[j + 1] = res
  elseif type(res) == 'table' then out[j + 1] = 'E' .. tostring(res.err)
  else out[j + 1] = 'E' .. tostring(res) end
end
return out
`;

/**
 * KEYS: stream, meta. ARGV: since offset, limit, create (1/0), new epoch, meta ttl (s).
 * Returns {epoch, top, payload...}: the position and the entries after `since`,
 * read atomically so the position and the entries agree.
 */
export const HISTORY_SCRIPT = `
local epoch = redis.call('HGET', KEYS[2], 'e')
local top = 0
if not epoch then
  if ARGV[3] ~= '1' then return {'', 0} end
  epoch = ARGV[4]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch, 'o', 0)
  redis.call('EXPIRE', KEYS[2], ARGV[5])
else
  top = tonumber(redis.call('HGET', KEYS[2], 'o') or '0')
end
local limit = tonumber(ARGV[2])
local out = {epoch, top}
if limit == 0 then return out end
local entries = redis.call('XRANGE', KEYS[1], (tonumber(ARGV[1]) + 1) .. '-0', '+', 'COUNT', limit)
for _, e in ipairs(entries) do out[#out + 1] = e[2][2] end
return out
`;

/**
 * KEYS: stream, meta. ARGV: epoch, offset and time of the last publication
 * the caller saw, new epoch, meta ttl (s).
 * A stream that lost that publication under the same epoch (its top is
 * behind it, or the entry at that offset is another publication) was rolled
 * back by a failover: it starts over under the new epoch, which is returned;
 * otherwise returns ''. A trimmed or expired entry is not taken for a change.
 */
export const VERIFY_SCRIPT = `
if redis.call('HGET', KEYS[2], 'e') ~= ARGV[1] then return '' end
local offset = tonumber(ARGV[2])
local intact = tonumber(redis.call('HGET', KEYS[2], 'o') or '0') >= offset
if intact then
  local entry = redis.call('XRANGE', KEYS[1], offset .. '-0', offset .. '-0')
  if #entry > 0 then intact = string.match(entry[1][2][2], '^[^\\n]*\\n[^\\n]*\\n([^\\n]*)\\n') == ARGV[3] end
end
if intact then return '' end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[2], 'e', ARGV[4], 'o', 0)
redis.call('EXPIRE', KEYS[2], ARGV[5])
return ARGV[4]
`;

export interface DecodedPayload {
  offset: number;
  epoch: string;
  time: number;
  /** Info JSON text, or '' when the publication came from a backend. */
  info: string;
  /** Data JSON text, untouched. */
  data: string;
}

/** The tail a publisher passes to PUBLISH_SCRIPT. */
export function payloadTail(time: number, info: string, data: string): string {
  return `${time}\n${info}\n${data}`;
}

/** Slice a payload apart; returns undefined for anything malformed. */
export function decodePayload(msg: string): DecodedPayload | undefined {
  const a = msg.indexOf('\n');
  const b = msg.indexOf('\n', a + 1);
  const c = msg.indexOf('\n', b + 1);
  const d = msg.indexOf('\n', c + 1);
  if (a < 0 || b < 0 || c < 0 || d < 0) return undefined;
  const offset = Number(msg.slice(0, a));
  const time = Number(msg.slice(b + 1, c));
  if (!Number.isSafeInteger(offset) || !Number.isFinite(time)) return undefined;
  return { offset, epoch: msg.slice(a + 1, b), time, info: msg.slice(c + 1, d), data: msg.slice(d + 1) };
}
