import { z } from 'zod';
import { describeValue } from './value-description.js';

/** One day: a deadline longer than that is a typo, and would hide a stuck kernel action. */
export const MAX_DEADLINE_SECONDS = 86_400;

/** A positive, bounded number of seconds (fractions allowed). */
export const secondsSchema = (what: string) =>
  z
    .number({
      error: (iss) =>
        iss.input === undefined ? undefined : `${what} must be a number of seconds, got ${describeValue(iss.input)}`,
    })
    .positive({ error: `${what} must be greater than 0 seconds` })
    .max(MAX_DEADLINE_SECONDS, { error: `${what} must be at most ${MAX_DEADLINE_SECONDS} seconds (one day)` });

export const deadlinesSchema = z.strictObject({
  /** An unbind that has not returned by then is reported blocked. */
  unbindSeconds: secondsSchema('unbindSeconds').default(30),
  /** How long to wait for zombie FDs to close so the module can unload. */
  zombieCloseSeconds: secondsSchema('zombieCloseSeconds').default(60),
  /** Any other kernel action: load, unload, bind. */
  actionSeconds: secondsSchema('actionSeconds').default(60),
  /** How long to watch holders reopen the new device. */
  recoveryWatchSeconds: secondsSchema('recoveryWatchSeconds').default(120),
});
export type Deadlines = z.output<typeof deadlinesSchema>;
