export * from './codes.js';
export * from './frames.js';
export * from './codec.js';
export * from './binary.js';
export * from './backoff.js';
export * from './json.js';
export * from './users.js';
export * from './delta.js';
