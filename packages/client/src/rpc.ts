/** Client side of RPC: options, the command's params, and the errors an abort gives. */
import { type RpcParams, asBytes } from '@tidings/protocol';
import { ClientErrorCode, TidingsError } from './errors.js';

export interface RpcOptions<C = unknown> {
  /** Aborting it rejects the call at once and cancels it on the server (the handler's signal fires). */
  signal?: AbortSignal;
  /** ms until the call fails with a timeout and is cancelled on the server; default `options.timeout`; 0: none. */
  timeout?: number;
  /** Partial results, in the order the handler produced them. Giving it asks the server to stream. */
  onChunk?: (chunk: C) => void;
}

/** `data` that is bytes (Uint8Array, ArrayBuffer, a view) travels as bytes. */
export function rpcParams(method: string, data: unknown, stream: boolean): RpcParams {
  const bytes = asBytes(data);
  const params: RpcParams = { method, data: bytes ?? data };
  if (bytes) params.binary = true;
  if (stream) params.stream = true;
  return params;
}

export function abortError(signal: AbortSignal): TidingsError {
  const err = new TidingsError(ClientErrorCode.Aborted, 'rpc aborted');
  (err as { cause?: unknown }).cause = signal.reason;
  return err;
}
