import { z } from 'zod';
import { moduleNameSchema, moduleParamSchema, moduleVersionSchema } from './kernel-names.schema.js';
import { moduleFileSchema } from './module-file.schema.js';

/**
 * What to load in place of a module: a version modprobe resolves, or a .ko file. Narrow with
 * `'file' in target`.
 */
export type ModuleTargetSpec = { version: string; params: string[] } | { file: string; params: string[] };

/**
 * Written as one mapping with exactly one of `version`/`file` (a union of two strict objects
 * would report a typo as "no union member matched"); the output is the narrowable union.
 */
export const moduleTargetSchema = z
  .strictObject({
    version: moduleVersionSchema.optional(),
    file: moduleFileSchema.optional(),
    params: z.array(moduleParamSchema).default([]),
  })
  .superRefine((target, ctx) => {
    if (target.version !== undefined && target.file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'target has both "version" and "file": give exactly one',
      });
    } else if (target.version === undefined && target.file === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'target needs "version" (a version modprobe resolves) or "file" (an absolute path to a .ko)',
      });
    }
  })
  .transform((target): ModuleTargetSpec =>
    target.file !== undefined
      ? { file: target.file, params: target.params }
      : { version: target.version ?? '', params: target.params },
  );

export const moduleStepSchema = z.strictObject({
  name: moduleNameSchema,
  target: moduleTargetSchema,
});
export type ModuleStep = z.output<typeof moduleStepSchema>;

/** The kernel treats '-' and '_' in module names alike: mlx5-core is mlx5_core. */
const canonicalModuleName = (name: string): string => name.replaceAll('-', '_');

/** The module stack in unload order: top of the stack first (mlx5_ib before mlx5_core). */
export const moduleStackSchema = z
  .array(moduleStepSchema)
  .min(1, { error: 'list at least one module, in unload order (top of the stack first)' })
  .superRefine((steps, ctx) => {
    const seen = new Map<string, number>();
    steps.forEach((step, index) => {
      const key = canonicalModuleName(step.name);
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, index);
        return;
      }
      const same = steps[first]?.name === step.name ? '' : " (the kernel treats '-' and '_' alike)";
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `module ${JSON.stringify(step.name)} is already listed at spec.modules[${first}]${same}`,
      });
    });
  });
