export { HttpPublisher, PublishError, type BatchItem, type BatchResult, type HttpPublisherOptions, type StreamPosition } from './http.js';
export { RedisPublisher, type RedisPublisherOptions } from './redis.js';
// The stream layout and scripts, re-exported so existing imports from the publisher keep working.
export * from '@tidings/streams';
