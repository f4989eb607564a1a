export * from './private-redis.js';
export * from './private-redis-cluster.js';
export * from './system-deps.js';
export * from './child-process.js';
export * from './repo-paths.js';
export * from './sim-fleet.js';
