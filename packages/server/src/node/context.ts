/**
 * What every connection and the HTTP API share on one node. Built once by the
 * gateway; transports, sessions and the API read it, so it sits below them.
 */
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/verifier.js';
import type { ChannelPolicy } from '../channels/policy.js';
import type { Config } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import type { Hooks } from '../hooks/hooks.js';
import type { Hub } from '../hub/hub.js';
import type { RpcService } from '../rpc/service.js';
import type { NodeCounters } from './counters.js';
import type { Deadlines, HasDeadline } from './deadlines.js';

export interface NodeContext {
  readonly config: Config;
  readonly hub: Hub;
  readonly engine: Engine;
  readonly verifier: TokenVerifier;
  readonly policy: ChannelPolicy;
  readonly rpc: RpcService;
  /** The app backend's connect/subscribe/publish/refresh hooks (each off until configured). */
  readonly hooks: Hooks;
  readonly log: Logger;
  /** False once the node drains: new connects are refused with 3001. */
  accepting: boolean;
  /** Every session's connect, ping and token deadlines, on one timer. */
  readonly deadlines: Deadlines<HasDeadline>;
  /** Server-initiated disconnects by close code. */
  readonly disconnects: Map<number, number>;
  /** Refusals, disconnects, rate-limit hits and recoveries, for /metrics. */
  readonly counters: NodeCounters;
}
