import { z } from 'zod';
import { wholeNumberSchema } from './count.schema.js';
import { secondsSchema } from './deadlines.schema.js';
import { describeValue } from './value-description.js';

/**
 * The recovery SLO a wave's gate checks: the `percentile` of the applications' recovery times
 * is at most `recoverySeconds`, and at most `maxNotRecovered` applications did not recover.
 */
export const sloSchema = z.strictObject({
  percentile: z
    .number({
      error: (iss) =>
        iss.input === undefined ? undefined : `percentile must be a number, got ${describeValue(iss.input)}`,
    })
    .min(1, { error: 'percentile must be between 1 and 100' })
    .max(100, { error: 'percentile must be between 1 and 100' })
    .default(95),
  recoverySeconds: secondsSchema('recoverySeconds').default(30),
  maxNotRecovered: wholeNumberSchema('maxNotRecovered', 0).default(0),
});
export type RecoverySlo = z.output<typeof sloSchema>;
