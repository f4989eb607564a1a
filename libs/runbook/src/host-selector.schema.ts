import { z } from 'zod';
import { tokenSchema } from './kernel-token.schema.js';

/** Host ids reach Redis keys, queue prefixes and metric labels (same rule as libs/contracts). */
export const hostNameSchema = tokenSchema({
  what: 'host name',
  pattern: /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/,
  maxLength: 63,
  allowed: "use lowercase letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
  reaches: 'it becomes part of queue names and metric labels',
});

/** Which hosts a rollout covers. First cut: an explicit list (selectors come later). */
export const hostSelectorSchema = z.strictObject({
  names: z
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
    }),
});
export type HostSelector = z.output<typeof hostSelectorSchema>;
