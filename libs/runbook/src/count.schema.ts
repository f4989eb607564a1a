import { z } from 'zod';
import { describeValue } from './value-description.js';

/** A whole number within bounds, with messages that name the field. */
export const wholeNumberSchema = (what: string, min: number, max?: number) => {
  const base = z
    .number({
      error: (iss) =>
        iss.input === undefined ? undefined : `${what} must be a whole number, got ${describeValue(iss.input)}`,
    })
    .int({ error: `${what} must be a whole number` })
    .min(min, { error: `${what} must be at least ${min}` });
  return max === undefined ? base : base.max(max, { error: `${what} must be at most ${max}` });
};
