import { z } from 'zod';
import { tokenSchema } from './kernel-token.schema.js';
import { labelSelectorSchema, type LabelSelector } from './label-selector.schema.js';

/** Host ids reach Redis keys, queue prefixes and metric labels (same rule as libs/contracts). */
export const hostNameSchema = tokenSchema({
  what: 'host name',
  pattern: /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/,
  maxLength: 63,
  allowed: "use lowercase letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
  reaches: 'it becomes part of queue names and metric labels',
});

const hostNamesSchema = z
  .array(hostNameSchema)
  .min(1, { error: 'list at least one host' })
  .superRefine((names, ctx) => {
    const seen = new Map<string, number>();
    names.forEach((name, index) => {
      const first = seen.get(name);
      if (first === undefined) seen.set(name, index);
      else
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message: `host ${JSON.stringify(name)} is already listed at spec.hosts.names[${first}]`,
        });
    });
  });

/**
 * Which hosts a rollout covers: an explicit list, or the hosts whose labels match. `names?: never`
 * on the selector form keeps `spec.hosts?.names ?? []` compiling for code written for names only.
 */
export type HostSelector = { names: string[]; selector?: never } | { selector: LabelSelector; names?: never };

/**
 * Written as one mapping with exactly one of `names`/`selector` (a union of two strict objects
 * would report a typo as "no union member matched"); the output is the narrowable union.
 */
export const hostSelectorSchema = z
  .strictObject({
    names: hostNamesSchema.optional(),
    selector: labelSelectorSchema.optional(),
  })
  .superRefine((hosts, ctx) => {
    if (hosts.names !== undefined && hosts.selector !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'hosts has both "names" and "selector": give exactly one' });
    } else if (hosts.names === undefined && hosts.selector === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['names'],
        message: 'required: give "names" (a list of hosts) or "selector" (matchLabels)',
      });
    }
  })
  .transform((hosts): HostSelector =>
    hosts.selector !== undefined ? { selector: hosts.selector } : { names: hosts.names ?? [] },
  );
