export * from './swap.machine.js';
export * from './swap.effects.js';
export * from './swap-plan.js';
export * from './recovery.tracker.js';
export * from './file-identity.js';
export * from './holder-summary.js';
export * from './reload-spec.js';
