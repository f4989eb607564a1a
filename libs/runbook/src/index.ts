export { runbookSchema, runbookSpecSchema, RUNBOOK_API_VERSION, RUNBOOK_KIND } from './runbook.schema.js';
export type { Runbook, RunbookSpec } from './runbook.schema.js';
export type { ModuleStep, ModuleTargetSpec } from './module-step.schema.js';
export type { DeviceSelector } from './device-selector.schema.js';
export type { SubsystemOverride } from './subsystem-override.schema.js';
export type { Deadlines } from './deadlines.schema.js';
export { MAX_DEADLINE_SECONDS } from './deadlines.schema.js';
export type { BlockedUnbindPolicy } from './blocked-unbind.schema.js';
export type { RecoverySettings } from './recovery.schema.js';
export type { HostSelector } from './host-selector.schema.js';
export type { LabelSelector } from './label-selector.schema.js';
export { maxUnavailableOf } from './strategy.schema.js';
export type { DomainCap, MaxUnavailable, Strategy } from './strategy.schema.js';
export type { RecoverySlo } from './slo.schema.js';
export { FAILURE_POLICIES } from './failure-policy.schema.js';
export type { FailurePolicy } from './failure-policy.schema.js';
export { WEEKDAYS, isKnownTimeZone, minutesOfDay } from './maintenance-window.schema.js';
export type { MaintenanceWindow, Weekday } from './maintenance-window.schema.js';
export { COMPARISONS } from './prometheus-gate.schema.js';
export type { Comparison, PrometheusGate } from './prometheus-gate.schema.js';
export type { Hook, Hooks } from './hook.schema.js';
export { parseRunbook, validateRunbook } from './runbook.parser.js';
export { hostSelectorOf, requireHosts } from './runbook-hosts.guard.js';
export type { RolloutHosts } from './runbook-hosts.guard.js';
export { RunbookValidationError, formatRunbookIssue } from './runbook-validation.error.js';
export type { RunbookIssue } from './runbook-validation.error.js';
export {
  censusRequestOf,
  censusRequestSchema,
  validateCensusRequest,
  MAX_CENSUS_MODULES,
} from './census-request.schema.js';
export type { CensusRequest } from './census-request.schema.js';
