/**
 * The connection state as the UI shows it. The client has four states; the
 * UI needs five, because "connecting for the first time" (grey) and "lost
 * the connection, retrying" (yellow) look the same to the client. The rule:
 *
 * | client state   | how it got there                                  | ConnectionState |
 * | -------------- | ------------------------------------------------- | --------------- |
 * | `connecting`   | connect() was called (first attempt)              | `connecting`    |
 * | `connecting`   | a connection or attempt was lost, retry scheduled | `reconnecting`  |
 * | `connected`    |                                                   | `connected`     |
 * | `failed`       | terminal close code, getToken refused, too many attempts | `failed` |
 * | `disconnected` | disconnect() was called, or not connected yet     | `disconnected`  |
 *
 * `error` carries the code and reason of the last loss (reconnecting) or of
 * the failure (failed); it is null when connecting, connected or disconnected.
 */
import { type Client, ClientCode, type CodeContext, type TransportName, TidingsError } from '@tidings/client';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'disconnected';

export interface ConnectionState {
  state: ConnectionStatus;
  /** The transport of the current connection or attempt; null when there is none. */
  transport: TransportName | null;
  /** Why the connection was lost (reconnecting) or gave up (failed): `code` is a close, server or ClientCode. */
  error: TidingsError | null;
  /** Who this connection is, once connected. */
  session: { client: string; user: string } | null;
}

const INITIAL: ConnectionState = { state: 'disconnected', transport: null, error: null, session: null };

/** Follows one client's events and keeps an immutable snapshot for useSyncExternalStore. */
export class ConnectionStore {
  private snapshot: ConnectionState = INITIAL;
  private readonly listeners = new Set<() => void>();
  /** The last `connecting` or `failed` context: tells a first attempt from a retry. */
  private cause: CodeContext = { code: ClientCode.Manual, reason: 'not connected' };

  constructor(private readonly client: Client) {
    client.on('connecting', (ctx) => this.update(ctx));
    client.on('failed', (ctx) => this.update(ctx));
    // Entering connecting or failed, the event with the cause follows at once: showing the state
    // before it would flash "connecting" during every reconnect.
    client.on('state', ({ state }) => state !== 'connecting' && state !== 'failed' && this.update());
    client.on('connected', () => this.update());
    this.update();
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): ConnectionState => this.snapshot;

  private update(cause?: CodeContext): void {
    if (cause) this.cause = cause;
    const next = describe(this.client, this.cause);
    if (sameState(next, this.snapshot)) return;
    this.snapshot = next;
    for (const l of [...this.listeners]) l();
  }
}

export function describe(client: Client, cause: CodeContext): ConnectionState {
  const transport = client.transport;
  switch (client.state) {
    case 'connected': {
      const s = client.session;
      return { state: 'connected', transport, error: null, session: s ? { client: s.client, user: s.user } : null };
    }
    case 'connecting':
      if (cause.code === ClientCode.Manual) return { state: 'connecting', transport, error: null, session: null };
      return { state: 'reconnecting', transport, error: new TidingsError(cause.code, cause.reason, true), session: null };
    case 'failed':
      return { state: 'failed', transport: null, error: new TidingsError(cause.code, cause.reason), session: null };
    default:
      return INITIAL;
  }
}

function sameState(a: ConnectionState, b: ConnectionState): boolean {
  return (
    a.state === b.state &&
    a.transport === b.transport &&
    a.error?.code === b.error?.code &&
    a.error?.message === b.error?.message &&
    a.session?.client === b.session?.client
  );
}
