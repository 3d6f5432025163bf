/**
 * A node's RPC service: the handlers the application registered, the proxy
 * to an HTTP backend for the rest, and the limits every call runs under.
 * One per node; each connection's calls (calls.ts) read it.
 */
import type { Logger } from 'pino';
import { type RpcProxyConfig, proxyHandler } from './proxy.js';
import { type RpcHandler, RpcRegistry } from './registry.js';

export interface RpcLimits {
  /** Calls in flight per connection. */
  maxInFlight: number;
  /** A streaming handler waits while the connection's outbound queue holds more than this. */
  paceAboveBytes: number;
}

export class RpcService {
  private readonly registry = new RpcRegistry();
  private readonly proxy?: RpcHandler;

  constructor(
    readonly limits: RpcLimits,
    readonly log: Logger,
    private readonly proxyConfig?: RpcProxyConfig,
  ) {
    if (proxyConfig) this.proxy = proxyHandler(proxyConfig);
  }

  register(method: string, handler: RpcHandler): void {
    this.registry.register(method, handler);
  }

  /** The handler for `method`: registered locally, else the proxy when it takes this method. */
  resolve(method: string): RpcHandler | undefined {
    const local = this.registry.get(method);
    if (local) return local;
    const methods = this.proxyConfig?.methods;
    if (methods && !methods.includes(method)) return undefined;
    return this.proxy;
  }
}
