import { z } from 'zod';
import { explainToken, tokenSchema, type TokenRule } from './kernel-token.schema.js';

/** Label keys as agents accept them (`--labels rack=r1,zone=z1`): `rack`, `topology.zone`. */
export const labelKeyRule: TokenRule = {
  what: 'label key',
  pattern: /^[a-z][a-z0-9_.-]{0,62}$/,
  maxLength: 63,
  allowed: "use lowercase letters, digits, '_', '.' and '-', starting with a letter",
  reaches: 'it is compared with the labels agents report',
};
export const labelKeySchema = tokenSchema(labelKeyRule);

export const labelValueSchema = tokenSchema({
  what: 'label value',
  pattern: /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/,
  maxLength: 63,
  allowed: "use letters, digits, '_', '.' and '-', starting and ending with a letter or digit",
  reaches: 'it is compared with the labels agents report',
});

/**
 * Hosts whose labels include every pair. Keys and values are checked here rather than by
 * `z.record`'s key schema, whose issue ("Invalid key in record") hides the reason and stops the
 * values from being checked at all.
 */
export const labelSelectorSchema = z.strictObject({
  matchLabels: z
    .record(z.string(), z.unknown())
    .superRefine((labels, ctx) => {
      const entries = Object.entries(labels);
      if (entries.length === 0) {
        ctx.addIssue({
          code: 'custom',
          message: 'list at least one label: an empty selector would select every host of the fleet',
        });
      }
      for (const [key, value] of entries) {
        const why = explainToken(labelKeyRule, key);
        if (why !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: why });
        const checked = labelValueSchema.safeParse(value);
        for (const issue of checked.error?.issues ?? []) {
          ctx.addIssue({ code: 'custom', path: [key], message: issue.message });
        }
      }
    })
    .transform((labels) => labels as Record<string, string>),
});
export type LabelSelector = z.output<typeof labelSelectorSchema>;
