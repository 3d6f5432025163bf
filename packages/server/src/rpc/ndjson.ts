/**
 * The RPC proxy's answer format: newline-delimited JSON, one object per line.
 *
 *   {"chunk": <any>}                       a partial result (0..n of them)
 *   {"result": <any>}                      the final result, ends the call
 *   {"error": {"code": 400, "message": …}} the final error, ends the call
 *
 * `"binary": true` beside `chunk` or `result` means the value is base64 bytes.
 * Blank lines are ignored (a backend may send them as keep-alives).
 */
import { ErrorCode, type JsonObject, base64ToBytes, isJsonObject, parseJsonObject } from '@tidings/protocol';
import { RpcError } from './registry.js';

export type BackendLine = { chunk: unknown } | { result: unknown } | { error: RpcError };

type Obj = JsonObject;

function malformed(why: string): RpcError {
  return new RpcError(ErrorCode.RpcFailed, `rpc backend sent a malformed line: ${why}`);
}

function value(o: Obj, key: string): unknown {
  if (o.binary !== true) return o[key];
  if (typeof o[key] !== 'string') throw malformed(`${key} must be base64 text when binary is true`);
  try {
    return base64ToBytes(o[key]);
  } catch {
    throw malformed(`${key} is not base64`);
  }
}

/** An error body from a backend: its code and message when usable, else 114. */
export function backendError(body: unknown, fallback: string): RpcError {
  if (isJsonObject(body) && isJsonObject(body.error)) {
    const { code, message } = body.error;
    if (typeof code === 'number' && Number.isInteger(code) && code >= 100 && code < 1_000_000 && typeof message === 'string') {
      return new RpcError(code, message.slice(0, 1000));
    }
  }
  return new RpcError(ErrorCode.RpcFailed, fallback);
}

/** Read one line (already split, without its newline). Throws RpcError when it is not one of the three shapes. */
export function parseLine(line: string): BackendLine {
  const raw = parseJsonObject(line);
  if (!raw) throw malformed('not a JSON object');
  if ('chunk' in raw) return { chunk: value(raw, 'chunk') };
  if ('result' in raw) return { result: value(raw, 'result') };
  if ('error' in raw) return { error: backendError(raw, 'rpc backend failed') };
  throw malformed('needs chunk, result or error');
}

/** Lines of a byte stream, each at most `maxBytes` long (longer: an RpcError). */
export async function* lines(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const bytes of body) {
    buffered += decoder.decode(bytes, { stream: true });
    let start = 0;
    let nl: number;
    while ((nl = buffered.indexOf('\n', start)) >= 0) {
      const line = buffered.slice(start, nl).trim();
      start = nl + 1;
      if (line) yield line;
    }
    buffered = buffered.slice(start);
    if (buffered.length > maxBytes) throw new RpcError(ErrorCode.RpcFailed, `rpc backend sent a line longer than ${maxBytes} bytes`);
  }
  const last = (buffered + decoder.decode()).trim();
  if (last) yield last;
}
