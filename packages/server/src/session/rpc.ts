/**
 * RPC handlers registered by the application embedding the gateway
 * (`gateway.rpc('method', handler)`). A handler gets the caller's identity and
 * an AbortSignal that fires when the connection goes away.
 */
import { ErrorCode } from '@tidings/protocol';

export interface RpcContext {
  user: string;
  client: string;
  signal: AbortSignal;
}

export type RpcHandler = (data: unknown, ctx: RpcContext) => unknown | Promise<unknown>;

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

export const RPC_NOT_FOUND = ErrorCode.MethodNotFound;
