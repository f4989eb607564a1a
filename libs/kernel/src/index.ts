export * from './kernel.port.js';
export * from './kernel-action.error.js';
