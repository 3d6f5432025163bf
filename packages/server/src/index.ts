export { Gateway, createEngine, startGateway, type GatewayOptions } from './gateway.js';
export { loadConfig, makeConfig, type LoadOptions } from './config/load.js';
export { ConfigError, parseConfig, parseDuration, type Config, type ConfigInput, type NamespaceConfig } from './config/schema.js';
export type { Engine, EngineHandler, ServerPublication, HistoryQuery, HistoryResult, PublishOptions, ControlMessage } from './engine/engine.js';
export { MemoryEngine } from './engine/memory.js';
export { RedisEngine, type RedisEngineOptions } from './engine/redis.js';
export { EngineUnavailable, type NodeInfo } from './engine/engine.js';
export { signToken, type TokenRequest } from './auth/sign.js';
export { RpcError, type RpcContext, type RpcHandler } from './session/rpc.js';
