import { z } from 'zod';
import { deviceSelectorSchema } from './device-selector.schema.js';
import { formatIssuePath } from './issue-path.js';
import { moduleNameSchema } from './kernel-names.schema.js';
import { moduleTargetSchema } from './module-step.schema.js';
import type { Runbook } from './runbook.schema.js';
import { RunbookValidationError } from './runbook-validation.error.js';
import { ZodIssueMapper } from './zod-issue.mapper.js';

/** A census names a few modules (a driver's stack), not a host's every module. */
export const MAX_CENSUS_MODULES = 16;

/**
 * What a live census of a host looks at (libs/contracts host-census): the devices as a
 * runbook's `spec.devices` names them, and a module stack as in `spec.modules`, where the target
 * is optional (given, the agent resolves it without loading anything). The same names reach
 * sysfs and modprobe as a runbook's do, so they are checked by the same rules.
 */
export const censusRequestSchema = z.strictObject({
  devices: deviceSelectorSchema,
  modules: z
    .array(z.strictObject({ name: moduleNameSchema, target: moduleTargetSchema.optional() }))
    .min(1, { error: 'name at least one module, top of the stack first' })
    .max(MAX_CENSUS_MODULES, { error: `name at most ${MAX_CENSUS_MODULES} modules` }),
});
export type CensusRequest = z.output<typeof censusRequestSchema>;

/** Throws a RunbookValidationError naming each bad field (`devices.bus`, `modules[0].name`). */
export function validateCensusRequest(value: unknown): CensusRequest {
  const mapper = new ZodIssueMapper();
  const result = censusRequestSchema.safeParse(value, { error: mapper.errorMap });
  if (result.success) return result.data;
  const issues = mapper.map(result.error.issues).map((issue) => ({
    path: formatIssuePath(issue.path),
    message: issue.message,
  }));
  throw new RunbookValidationError(issues, 'census request');
}

/** The census a runbook's swap would start from: its devices and its module stack with targets. */
export function censusRequestOf(runbook: Runbook): CensusRequest {
  return { devices: runbook.spec.devices, modules: runbook.spec.modules };
}
