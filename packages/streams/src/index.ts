export { newEpoch } from './epoch.js';
export * from './redis-layout.js';
export { defineScripts, runPublish, supportsShardedPubSub, type HistoryPolicySeconds, type RawPublish, type ScriptClient } from './redis-scripts.js';
