/**
 * @tidings/react: a provider that owns one Tidings connection, and hooks for
 * its state, channel subscriptions, state folded from a channel with reload
 * on failed recovery, presence, typing indicators and RPC.
 */
export { TidingsProvider, useClient, useTidings, type TidingsContextValue, type TidingsProviderProps } from './provider.js';
export { useConnectionState } from './use-connection-state.js';
export type { ConnectionState, ConnectionStatus } from './connection-store.js';
export { useSubscription, useSubscriptionState, type UseSubscriptionOptions, type UseSubscriptionResult } from './use-subscription.js';
export { useChannelState, type UseChannelStateOptions, type UseChannelStateResult } from './use-channel-state.js';
export type { ChannelSnapshot, ChannelStatus, Loaded } from './channel-state.js';
export { usePresence, type UsePresenceOptions } from './use-presence.js';
export { useTyping, type UseTypingResult } from './use-typing.js';
export type { TypingOptions } from './typing-tracker.js';
export { useRpc, type RpcStatus, type UseRpcOptions, type UseRpcResult } from './use-rpc.js';
export type { Channel } from './use-shared-subscription.js';
export type { ChannelRegistry } from './channel-registry.js';
