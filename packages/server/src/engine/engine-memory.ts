/**
 * The embedded single-node engine: the memory broker, presence, control bus
 * and registry in this process, and the timer that sweeps expired history.
 */
import { MemoryBroker, type MemoryBrokerOptions } from './broker-memory.js';
import { MemoryControl } from './control-memory.js';
import type { Engine, EngineHandler } from './engine.js';
import { MemoryNodes } from './nodes-memory.js';
import { MemoryOccupancy } from './occupancy-memory.js';
import { MemoryOutbox } from './outbox-memory.js';
import { MemoryPresence } from './presence-memory.js';

export interface MemoryEngineOptions extends MemoryBrokerOptions {
  /** How often expired history and keys are swept. */
  sweepIntervalMs?: number;
}

export class MemoryEngine implements Engine {
  readonly broker: MemoryBroker;
  readonly presence = new MemoryPresence();
  readonly control = new MemoryControl();
  readonly nodes = new MemoryNodes();
  readonly occupancy = new MemoryOccupancy();
  readonly outbox = new MemoryOutbox();
  private sweeper?: NodeJS.Timeout;
  private started = false;

  constructor(private readonly opts: MemoryEngineOptions = {}) {
    this.broker = new MemoryBroker(opts);
  }

  async start(handler: EngineHandler): Promise<void> {
    this.broker.handler = handler;
    this.control.handler = handler;
    this.started = true;
    this.sweeper = setInterval(() => this.broker.sweep(Date.now()), this.opts.sweepIntervalMs ?? 60_000);
    this.sweeper.unref();
  }

  ready(): boolean {
    return this.started;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.started = false;
    delete this.broker.handler;
    delete this.control.handler;
  }
}
