/**
 * <TidingsProvider>: one client, one connection, for everything below it.
 * It connects on mount and disconnects on unmount. The disconnect waits one
 * macrotask, so strict mode's mount → unmount → mount keeps the one socket
 * instead of opening a second. It connects in a layout effect: those all run
 * before any passive effect, so a child's useEffect on mount already finds
 * the client connecting (and an RPC it makes waits for the connection).
 */
import { type ReactNode, createContext, createElement, useContext, useEffect, useLayoutEffect, useRef } from 'react';
import { type Client, type ClientOptions, createClient } from '@tidings/client';
import { ChannelRegistry } from './channel-registry.js';
import { ConnectionStore } from './connection-store.js';

/** Everything the hooks share for one client. */
export interface TidingsContextValue {
  client: Client;
  channels: ChannelRegistry;
  connection: ConnectionStore;
}

const TidingsContext = createContext<TidingsContextValue | null>(null);

export type TidingsProviderProps =
  | { client: Client; children?: ReactNode }
  | ({ client?: undefined; children?: ReactNode } & ClientOptions);

/** Per-client state, kept with the client so a remounted provider over the same client shares it. */
const shared = new WeakMap<Client, TidingsContextValue>();
/** Disconnects scheduled by an unmount that may turn out to be strict mode's rehearsal. */
const pendingDisconnect = new WeakMap<Client, ReturnType<typeof setTimeout>>();

function contextFor(client: Client): TidingsContextValue {
  let value = shared.get(client);
  if (!value) {
    value = { client, channels: new ChannelRegistry(client), connection: new ConnectionStore(client) };
    shared.set(client, value);
  }
  return value;
}

export function TidingsProvider(props: TidingsProviderProps): ReactNode {
  const client = useProvidedClient(props);
  const value = contextFor(client);
  useConnectEffect(() => {
    const pending = pendingDisconnect.get(client);
    if (pending) clearTimeout(pending);
    pendingDisconnect.delete(client);
    client.connect();
    return () => {
      pendingDisconnect.set(
        client,
        setTimeout(() => {
          pendingDisconnect.delete(client);
          client.disconnect();
        }, 0),
      );
    };
  }, [client]);
  return createElement(TidingsContext.Provider, { value }, props.children);
}

/** useLayoutEffect in the browser; on the server (no effects run there) useEffect, which React 18 does not warn about. */
const useConnectEffect = typeof window !== 'undefined' && typeof window.document !== 'undefined' ? useLayoutEffect : useEffect;

/**
 * The given client, or one made from the options: created once per provider
 * (again only if `url` changes). The latest `getToken` is always the one
 * called, so an inline arrow function is fine; other options are read once.
 */
function useProvidedClient(props: TidingsProviderProps): Client {
  const getTokenRef = useRef(props.client ? undefined : props.getToken);
  getTokenRef.current = props.client ? undefined : props.getToken;
  const own = useRef<{ url: string; client: Client } | null>(null);
  if (props.client) return props.client;
  if (!own.current || own.current.url !== props.url) {
    const { children: _children, client: _client, ...options } = props;
    const getToken = options.getToken ? () => getTokenRef.current!() : undefined;
    own.current = { url: props.url, client: createClient({ ...options, ...(getToken ? { getToken } : {}) }) };
  }
  return own.current.client;
}

/** The provider's context; throws a clear error outside a provider. */
export function useTidings(): TidingsContextValue {
  const value = useContext(TidingsContext);
  if (!value) throw new Error('tidings: this hook must be used inside <TidingsProvider>');
  return value;
}

/** The provider's Client, for anything the hooks do not cover (publish, history, …). */
export function useClient(): Client {
  return useTidings().client;
}
