import { useSyncExternalStore } from 'react';
import type { ConnectionState } from './connection-store.js';
import { useTidings } from './provider.js';

/** `{ state, transport, error, session }` of the provider's connection; see connection-store.ts for the mapping. */
export function useConnectionState(): ConnectionState {
  const { connection } = useTidings();
  return useSyncExternalStore(connection.subscribe, connection.getSnapshot, connection.getSnapshot);
}
