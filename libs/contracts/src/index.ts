export * from './queues.js';
export * from './swap-report.js';
export * from './swap-job.js';
export * from './swap-events.js';
export * from './host-heartbeat.js';
export * from './redis-url.js';
