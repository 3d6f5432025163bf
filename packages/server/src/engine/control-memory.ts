/** The control bus of a single node: a message goes straight to its own handler. Contract: control.ts. */
import type { ControlBus, ControlHandler, ControlMessage } from './control.js';

export class MemoryControl implements ControlBus {
  handler?: ControlHandler;

  async publish(msg: ControlMessage): Promise<void> {
    this.handler?.onControl(msg);
  }
}
