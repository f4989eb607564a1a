export * from './private-redis.js';
export * from './system-deps.js';
