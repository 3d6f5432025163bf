export { HttpPublisher, PublishError, type HttpPublisherOptions, type StreamPosition } from './http.js';
export { RedisPublisher, defineScripts, runPublish, supportsShardedPubSub, type RedisPublisherOptions, type RawPublish, type HistoryPolicySeconds } from './redis.js';
export * from './redis-layout.js';
