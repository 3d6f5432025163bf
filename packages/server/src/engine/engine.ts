/**
 * The engine: the parts a node shares with the other nodes, behind one
 * lifecycle. It never sees a client. Each part has its contract in its own
 * file, and a memory and a Redis implementation side by side:
 *
 *   broker.ts    streams, history and fan-out     broker-memory.ts   broker-redis.ts
 *   presence.ts  who is on a channel              presence-memory.ts presence-redis.ts
 *   control.ts   node-to-node messages            control-memory.ts  control-redis.ts
 *   nodes.ts     the registry of live nodes       nodes-memory.ts    nodes-redis.ts
 *   occupancy.ts which nodes hold a channel/member occupancy-memory.ts occupancy-redis.ts
 *   outbox.ts    webhook events awaiting delivery outbox-memory.ts   outbox-redis.ts
 *
 * engine-memory.ts and engine-redis.ts put each set together.
 */
import { ErrorCode } from '@tidings/protocol';
import type { Broker, BrokerHandler } from './broker.js';
import type { ControlBus, ControlHandler } from './control.js';
import type { NodeRegistry } from './nodes.js';
import type { OccupancyStore } from './occupancy.js';
import type { Outbox } from './outbox.js';
import type { PresenceStore } from './presence.js';

/** Everything the engine calls on the node (the hub). */
export interface EngineHandler extends BrokerHandler, ControlHandler {}

export interface Engine {
  readonly broker: Broker;
  readonly presence: PresenceStore;
  readonly control: ControlBus;
  readonly nodes: NodeRegistry;
  readonly occupancy: OccupancyStore;
  readonly outbox: Outbox;
  /** Attach the node's handler and connect; resolves when ready to serve. */
  start(handler: EngineHandler): Promise<void>;
  /** Whether the engine can serve right now (false while its store is unreachable). */
  ready(): boolean;
  close(): Promise<void>;
}

/** Thrown by engine parts when their store is unreachable: API 503, client error 113 (retry later). */
export class EngineUnavailable extends Error {
  readonly code = ErrorCode.Unavailable;
  constructor(message = 'engine unavailable') {
    super(message);
    this.name = 'EngineUnavailable';
  }
}
