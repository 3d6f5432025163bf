/**
 * RPC handlers registered by the application embedding the gateway
 * (`gateway.rpc('method', handler)`). A handler is a plain (async) function
 * whose return value is the result, or an async generator whose yields are
 * streamed to the client as chunks and whose return value is the result. It
 * gets the caller's identity and an AbortSignal that fires when the client
 * cancels the call or the connection goes away.
 */
export interface RpcContext {
  user: string;
  client: string;
  /** The method called (a proxy or a catch-all handler needs it). */
  method: string;
  /** The `info` claim of the caller's token, if any. */
  info?: unknown;
  /** Fires on `cancel`, on the RPC timeout of a proxy, and when the connection closes. */
  signal: AbortSignal;
}

/**
 * `data` is the JSON value the client sent, or a Uint8Array (a Buffer) when it
 * sent bytes. Yield or return a Uint8Array to send bytes back.
 */
export type RpcHandler = (data: unknown, ctx: RpcContext) => unknown;

/** Throw this from a handler to send the client a chosen code and message. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class RpcRegistry {
  private readonly handlers = new Map<string, RpcHandler>();

  register(method: string, handler: RpcHandler): void {
    if (!/^[A-Za-z0-9_.:\-/]{1,128}$/.test(method)) throw new Error(`invalid RPC method name ${method}`);
    this.handlers.set(method, handler);
  }

  get(method: string): RpcHandler | undefined {
    return this.handlers.get(method);
  }
}
