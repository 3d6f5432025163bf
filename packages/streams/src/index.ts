export { newEpoch } from './epoch.js';
export * from './redis-layout.js';
export { ReplicaWaitError, defineScripts, runPublish, runPublishBatch, supportsShardedPubSub, type StreamPositionOrError, type HistoryPolicySeconds, type RawPublish, type ScriptClient } from './redis-scripts.js';
export { hashTag, keySlot } from './key-slot.js';
