import { z } from 'zod';
import { describeValue, stringTypeError } from './value-description.js';

export const COMPARISONS = ['<', '<=', '>', '>=', '==', '!='] as const;
export type Comparison = (typeof COMPARISONS)[number];

/**
 * A Prometheus query whose result must satisfy `condition` before the next wave starts. The
 * Prometheus URL is the controller's configuration: a runbook says what to check, not where.
 */
export const prometheusGateSchema = z.strictObject({
  query: z
    .string({ error: stringTypeError('query') })
    .refine((query) => query.trim() !== '', { error: 'query is empty: write a PromQL expression' }),
  condition: z.strictObject({
    op: z.enum(COMPARISONS),
    value: z
      .number({
        error: (iss) =>
          iss.input === undefined ? undefined : `value must be a number, got ${describeValue(iss.input)}`,
      })
      .refine(Number.isFinite, { error: 'value must be a finite number' }),
  }),
});
export type PrometheusGate = z.output<typeof prometheusGateSchema>;
