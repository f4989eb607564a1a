import { z } from 'zod';
import { describeValue } from './value-description.js';

/** How the recovery watch samples the host. */
export const recoverySchema = z.strictObject({
  pollMilliseconds: z
    .number({
      error: (iss) =>
        iss.input === undefined ? undefined : `pollMilliseconds must be a number, got ${describeValue(iss.input)}`,
    })
    .int({ error: 'pollMilliseconds must be a whole number of milliseconds' })
    .min(10, { error: 'pollMilliseconds must be at least 10' })
    .max(10_000, { error: 'pollMilliseconds must be at most 10000' })
    .default(100),
});
export type RecoverySettings = z.output<typeof recoverySchema>;
