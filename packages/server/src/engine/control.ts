/**
 * The control bus: node-to-node messages that are about users and sessions,
 * not channels (disconnect a user wherever connected, forward an SSE command
 * to the node holding the stream).
 *
 * Contract every control bus keeps (test/engine-contract.ts checks it):
 * - A published message reaches the ControlHandler of every node, this one
 *   included, at most once. Messages are not stored: a node that is away
 *   misses them.
 * - `publish` rejects with EngineUnavailable when the bus cannot be reached,
 *   so the caller can answer 503 instead of pretending.
 */

/** Node-to-node messages. */
export type ControlMessage =
  | { kind: 'disconnectUser'; user: string; code: number; reason: string }
  | { kind: 'unsubscribeUser'; user: string; channel: string }
  /** SSE commands POSTed to a node that does not hold the stream: the node holding `session` runs them. */
  | { kind: 'sseCommand'; session: string; frames: unknown[] };

export interface ControlHandler {
  onControl(msg: ControlMessage): void;
}

export interface ControlBus {
  publish(msg: ControlMessage): Promise<void>;
}
