import { z } from 'zod';
import { secondsSchema } from './deadlines.schema.js';

/**
 * What to do when an unbind is blocked by processes holding the device:
 * - fail: give up (and restore);
 * - signal: SIGTERM the holders, wait `graceSeconds`, then SIGKILL them.
 */
export const blockedUnbindSchema = z.strictObject({
  policy: z.enum(['fail', 'signal']).default('fail'),
  graceSeconds: secondsSchema('graceSeconds').default(10),
});
export type BlockedUnbindPolicy = z.output<typeof blockedUnbindSchema>;
