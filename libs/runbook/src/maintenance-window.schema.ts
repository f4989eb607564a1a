import { z } from 'zod';
import { stringTypeError } from './value-description.js';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since midnight of "HH:MM" ("24:00" is 1440, the end of the day). */
export function minutesOfDay(time: string): number {
  if (time === '24:00') return 24 * 60;
  const match = CLOCK_TIME.exec(time);
  if (match === null) throw new RangeError(`not a clock time: ${JSON.stringify(time)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * "HH:MM" on a 24-hour clock. YAML 1.2 reads an unquoted 22:00 as a string, so quoting is
 * optional. `end` may also be "24:00", the end of the day.
 */
const clockTimeSchema = (what: 'start' | 'end') =>
  z.string({ error: stringTypeError(what) }).superRefine((value, ctx) => {
    if (CLOCK_TIME.test(value) || (what === 'end' && value === '24:00')) return;
    ctx.addIssue({
      code: 'custom',
      message: `${what} ${JSON.stringify(value)} is not a time: write HH:MM on a 24-hour clock, e.g. "02:30"${
        what === 'end' ? ' (or "24:00" for the end of the day)' : ''
      }`,
    });
  });

/** Whether the runtime knows an IANA time zone; Intl is the same database the scheduler uses. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const timeZoneSchema = z.string({ error: stringTypeError('timeZone') }).superRefine((value, ctx) => {
  if (!isKnownTimeZone(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `timeZone ${JSON.stringify(value)} is not a known IANA time zone: write e.g. "Europe/Paris" or "UTC"`,
    });
  }
});

const daysSchema = z
  .array(z.enum(WEEKDAYS))
  .min(1, { error: `list at least one day (${WEEKDAYS.join(', ')})` })
  .superRefine((days, ctx) => {
    days.forEach((day, index) => {
      const first = days.indexOf(day);
      if (first !== index) {
        ctx.addIssue({ code: 'custom', path: [index], message: `day "${day}" is already listed at days[${first}]` });
      }
    });
  });

/**
 * When new swaps may start: from `start` to `end` local time on each of `days`. A window whose
 * end is before its start crosses midnight and belongs to the day it starts on ("fri" 22:00 to
 * 02:00 runs into Saturday morning).
 */
export const maintenanceWindowSchema = z
  .strictObject({
    days: daysSchema,
    start: clockTimeSchema('start'),
    end: clockTimeSchema('end'),
    timeZone: timeZoneSchema.default('UTC'),
  })
  .superRefine((window, ctx) => {
    if (window.start === window.end) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: `end equals start (${window.start}): the window would be empty; for a whole day write start "00:00" and end "24:00"`,
      });
    }
  });
export type MaintenanceWindow = z.output<typeof maintenanceWindowSchema>;

/** No window (the default) means always open. */
export const maintenanceWindowsSchema = z.array(maintenanceWindowSchema).default([]);
