import { z } from 'zod';
import { wholeNumberSchema } from './count.schema.js';
import { MAX_DEADLINE_SECONDS } from './deadlines.schema.js';
import { labelKeySchema } from './label-selector.schema.js';
import { describeValue } from './value-description.js';

const PERCENTAGE = /^(\d{1,3})%$/;

/**
 * How many hosts may be unavailable at once: a count (`2`) or a share of the selected hosts
 * (`"25%"`, rounded up by the scheduler, at least 1). Kept as written, so that a validated
 * runbook written back to YAML reads the same; `maxUnavailableOf` reads it.
 */
export const maxUnavailableSchema = z
  .union([z.number(), z.string()], {
    error: (iss) =>
      iss.input === undefined
        ? undefined
        : `maxUnavailable must be a number of hosts or a percentage like "25%", got ${describeValue(iss.input)}`,
  })
  .superRefine((value, ctx) => {
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 1) {
        ctx.addIssue({ code: 'custom', message: `maxUnavailable must be a whole number of hosts, at least 1` });
      }
      return;
    }
    const percent = PERCENTAGE.exec(value)?.[1];
    if (percent === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `maxUnavailable ${JSON.stringify(value)} is not valid: write a number of hosts (2) or a percentage ("25%")`,
      });
    } else if (Number(percent) < 1 || Number(percent) > 100) {
      ctx.addIssue({ code: 'custom', message: `maxUnavailable ${JSON.stringify(value)} must be between 1% and 100%` });
    }
  });
export type MaxUnavailable = z.output<typeof maxUnavailableSchema>;

/** The limit as a count or a percentage. */
export function maxUnavailableOf(value: MaxUnavailable): { count: number } | { percent: number } {
  if (typeof value === 'number') return { count: value };
  return { percent: Number(value.slice(0, -1)) };
}

/** At most `max` hosts in flight per value of the host label `label` (a rack, a zone). */
export const domainCapSchema = z.strictObject({
  label: labelKeySchema,
  max: wholeNumberSchema('domainCap.max', 1),
});
export type DomainCap = z.output<typeof domainCapSchema>;

export const strategySchema = z.strictObject({
  /** Hosts swapped first, alone, before the first gate. 0: no canary. */
  canary: wholeNumberSchema('canary', 0).default(1),
  maxUnavailable: maxUnavailableSchema.default(1),
  domainCap: domainCapSchema.optional(),
  pauseBetweenWavesSeconds: z
    .number({
      error: (iss) =>
        iss.input === undefined
          ? undefined
          : `pauseBetweenWavesSeconds must be a number of seconds, got ${describeValue(iss.input)}`,
    })
    .min(0, { error: 'pauseBetweenWavesSeconds must be 0 or more' })
    .max(MAX_DEADLINE_SECONDS, { error: `pauseBetweenWavesSeconds must be at most ${MAX_DEADLINE_SECONDS} (one day)` })
    .default(0),
});
export type Strategy = z.output<typeof strategySchema>;
