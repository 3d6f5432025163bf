import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { TidingsError } from '@tidings/client';
import { useTidings } from './provider.js';

export type RpcStatus = 'idle' | 'pending' | 'done' | 'error' | 'cancelled';

export interface UseRpcOptions {
  /** ms until a call fails with a timeout (and is cancelled on the server); default the client's `timeout`. */
  timeout?: number;
  /** Ask for streamed partial results (`chunks`); default true. */
  stream?: boolean;
}

export interface UseRpcResult<D, R, C> {
  /**
   * Start a call (cancelling the one still running, if any). Resolves with
   * the result, or undefined when it failed or was cancelled (see `error`,
   * `status`): it never rejects, so `onClick={() => call(x)}` is safe.
   */
  call: (data?: D) => Promise<R | undefined>;
  /** Partial results of the current call, in order. */
  chunks: C[];
  result: R | undefined;
  error: TidingsError | Error | null;
  pending: boolean;
  status: RpcStatus;
  /** Stop the current call: it is cancelled on the server (the handler's signal fires). */
  cancel: () => void;
}

interface CallState<R> {
  /** Bumped on every change of the chunk list (held in a ref): the returned snapshot is memoized on it. */
  chunksRev: number;
  result: R | undefined;
  error: TidingsError | Error | null;
  status: RpcStatus;
}

/** How long a call made while connecting waits for the connection, without a `timeout` option. */
const DEFAULT_READY_TIMEOUT = 10_000;

const IDLE: CallState<never> = { chunksRev: 0, result: undefined, error: null, status: 'idle' };

/**
 * Call RPC `method` over the provider's connection. A call made while the
 * client is still connecting waits for the connection (up to `timeout`).
 * Unmounting cancels the call in flight.
 */
export function useRpc<D = unknown, R = unknown, C = unknown>(method: string, options: UseRpcOptions = {}): UseRpcResult<D, R, C> {
  const { client } = useTidings();
  const [state, setState] = useState<CallState<R>>(IDLE);
  // Chunks are pushed in place (O(1) each); a render copies them at most once, when chunksRev moved.
  const chunksRef = useRef<C[]>([]);
  const current = useRef<AbortController | null>(null);
  const opts = useRef(options);
  opts.current = options;

  const cancel = useCallback(() => {
    const ctrl = current.current;
    if (!ctrl) return;
    current.current = null;
    ctrl.abort();
    setState((s) => ({ ...s, status: 'cancelled' }));
  }, []);

  const call = useCallback(
    async (data?: D): Promise<R | undefined> => {
      current.current?.abort();
      const ctrl = new AbortController();
      current.current = ctrl;
      const mine = (): boolean => current.current === ctrl;
      chunksRef.current = [];
      setState((s) => ({ chunksRev: s.chunksRev + 1, result: undefined, error: null, status: 'pending' }));
      const { timeout, stream = true } = opts.current;
      try {
        if (client.state === 'connecting') await client.ready(timeout || DEFAULT_READY_TIMEOUT);
        if (ctrl.signal.aborted) return undefined;
        const onChunk = stream
          ? (c: C) => {
              if (!mine()) return;
              chunksRef.current.push(c);
              setState((s) => ({ ...s, chunksRev: s.chunksRev + 1 }));
            }
          : undefined;
        const { data: result } = await client.rpc<R, C>(method, data, {
          signal: ctrl.signal,
          ...(timeout !== undefined ? { timeout } : {}),
          ...(onChunk ? { onChunk } : {}),
        });
        if (!mine()) return undefined;
        current.current = null;
        setState((s) => ({ ...s, result, status: 'done' }));
        return result;
      } catch (err) {
        if (!mine()) return undefined;
        current.current = null;
        setState((s) => ({ ...s, error: err instanceof Error ? err : new Error(String(err)), status: 'error' }));
        return undefined;
      }
    },
    [client, method],
  );

  useEffect(() => () => current.current?.abort(), []);

  // A new array identity whenever the chunks changed, and only then.
  const chunks = useMemo(() => chunksRef.current.slice(), [state.chunksRev]);
  const { result, error, status } = state;
  return { chunks, result, error, status, pending: status === 'pending', call, cancel };
}
