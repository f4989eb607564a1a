import { z } from 'zod';
import { blockedUnbindSchema } from './blocked-unbind.schema.js';
import { deadlinesSchema } from './deadlines.schema.js';
import { deviceSelectorSchema } from './device-selector.schema.js';
import { failurePolicySchema } from './failure-policy.schema.js';
import { hooksSchema } from './hook.schema.js';
import { hostSelectorSchema } from './host-selector.schema.js';
import { tokenSchema } from './kernel-token.schema.js';
import { maintenanceWindowsSchema } from './maintenance-window.schema.js';
import { moduleStackSchema } from './module-step.schema.js';
import { prometheusGateSchema } from './prometheus-gate.schema.js';
import { recoverySchema } from './recovery.schema.js';
import { sloSchema } from './slo.schema.js';
import { strategySchema } from './strategy.schema.js';
import { subsystemOverrideSchema } from './subsystem-override.schema.js';

export const RUNBOOK_API_VERSION = 'hotswap/v1';
export const RUNBOOK_KIND = 'Runbook';

export const runbookNameSchema = tokenSchema({
  what: 'runbook name',
  pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
  maxLength: 63,
  allowed: "use lowercase letters, digits and '-', starting and ending with a letter or digit",
  reaches: 'it names rollouts, queues and metric labels',
});

/**
 * Every object is strict: an unknown key (a typo like `unbindSecond`) is an error, never
 * silently ignored. Optional sections use `prefault({})` so their own defaults apply.
 */
export const runbookSpecSchema = z.strictObject({
  modules: moduleStackSchema,
  devices: deviceSelectorSchema,
  deadlines: deadlinesSchema.prefault({}),
  blockedUnbind: blockedUnbindSchema.prefault({}),
  recovery: recoverySchema.prefault({}),
  /** Optional here: the agent's one-host mode has none. A rollout uses `hostSelectorOf`. */
  hosts: hostSelectorSchema.optional(),
  strategy: strategySchema.prefault({}),
  slo: sloSchema.prefault({}),
  failurePolicy: failurePolicySchema,
  maintenanceWindows: maintenanceWindowsSchema,
  /** Absent: no Prometheus gate, the SLO gate alone decides. */
  prometheusGate: prometheusGateSchema.optional(),
  hooks: hooksSchema.prefault({}),
  /** Absent: the agent predicts from its subsystem table and the host. */
  subsystem: subsystemOverrideSchema.optional(),
});

export const runbookSchema = z.strictObject({
  apiVersion: z.literal(RUNBOOK_API_VERSION),
  kind: z.literal(RUNBOOK_KIND),
  metadata: z.strictObject({ name: runbookNameSchema }),
  spec: runbookSpecSchema,
});

/** A validated runbook, defaults applied. */
export type Runbook = z.output<typeof runbookSchema>;
export type RunbookSpec = Runbook['spec'];
