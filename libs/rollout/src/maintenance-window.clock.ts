import { minutesOfDay, type MaintenanceWindow } from '@hotswap/runbook';

/** A wall clock reading in a time zone. `weekday`: 0 is Monday. */
interface ZonedClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly weekday: number;
  /** Minutes since local midnight. */
  readonly minutes: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEKDAY_INDEX: Readonly<Record<string, number>> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** Building a DateTimeFormat costs far more than using one; the cache only ever grows by zone. */
const formats = new Map<string, Intl.DateTimeFormat>();
function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** The wall clock in `timeZone` at instant `at`: Intl carries the zone database, DST included. */
export function zonedClock(at: number, timeZone: string): ZonedClock {
  const parts: Record<string, string> = {};
  for (const part of formatFor(timeZone).formatToParts(at)) parts[part.type] = part.value;
  return {
    year: Number(parts['year']),
    month: Number(parts['month']),
    day: Number(parts['day']),
    weekday: WEEKDAY_INDEX[parts['weekday'] ?? ''] ?? 0,
    minutes: Number(parts['hour']) * 60 + Number(parts['minute']),
  };
}

/** A wall clock reading as if it were UTC: comparable, and arithmetic in days is exact. */
const wallOf = (clock: ZonedClock): number => Date.UTC(clock.year, clock.month - 1, clock.day) + clock.minutes * MINUTE;
const wallAt = (at: number, timeZone: string): number => wallOf(zonedClock(at, timeZone));
const floorToMinute = (at: number): number => Math.floor(at / MINUTE) * MINUTE;

/**
 * The instants whose wall clock in `timeZone` first reads `wall`, in order. Usually one: `wall`
 * minus the zone's offset there. In a fall-back overlap (01:30 happening twice) two. In a
 * spring-forward gap (02:30 never happens) the end of the gap, the first instant past `wall`.
 */
export function instantsOfWall(wall: number, timeZone: string): number[] {
  const guess = wall - (wallAt(wall, timeZone) - floorToMinute(wall));
  const at = wall - (wallAt(guess, timeZone) - floorToMinute(guess));
  if (wallAt(at, timeZone) === wall) {
    // An overlap repeats the wall clock 30 min (Lord Howe) to 1 h (most zones) apart.
    for (const shift of [HOUR, 30 * MINUTE]) {
      if (wallAt(at - shift, timeZone) === wall) return [at - shift, at];
      if (wallAt(at + shift, timeZone) === wall) return [at, at + shift];
    }
    return [at];
  }
  // In a gap: bisect on whole minutes between instants whose wall clocks are surely before and
  // after (UTC offsets stay within -12 h and +14 h).
  let before = floorToMinute(wall - 15 * HOUR);
  let after = floorToMinute(wall + 13 * HOUR);
  while (after - before > MINUTE) {
    const middle = before + Math.floor((after - before) / MINUTE / 2) * MINUTE;
    if (wallAt(middle, timeZone) >= wall) after = middle;
    else before = middle;
  }
  return [after];
}

const offsetAt = (at: number, timeZone: string): number => wallAt(at, timeZone) - floorToMinute(at);

/**
 * The instants within `days` after `from` at which the zone's UTC offset changes (DST). Offsets
 * are sampled once a day, and a change is bisected down to the minute.
 */
function offsetChanges(timeZone: string, from: number, days: number): number[] {
  const changes: number[] = [];
  let previous = floorToMinute(from);
  for (let day = 1; day <= days; day++) {
    const sample = previous + DAY;
    if (offsetAt(sample, timeZone) !== offsetAt(previous, timeZone)) {
      let [before, after] = [previous, sample];
      while (after - before > MINUTE) {
        const middle = before + Math.floor((after - before) / MINUTE / 2) * MINUTE;
        if (offsetAt(middle, timeZone) === offsetAt(before, timeZone)) before = middle;
        else after = middle;
      }
      changes.push(after);
    }
    previous = sample;
  }
  return changes;
}

/**
 * Whether `window` is open at `at`. A window whose end is not after its start crosses midnight
 * and belongs to the day it starts on: "fri 22:00-02:00" is open early Saturday, not early Friday.
 */
export function isWithinWindow(window: MaintenanceWindow, at: number): boolean {
  const clock = zonedClock(at, window.timeZone);
  const start = minutesOfDay(window.start);
  const end = minutesOfDay(window.end);
  const today = DAY_NAMES[clock.weekday] ?? 'mon';
  const yesterday = DAY_NAMES[(clock.weekday + 6) % 7] ?? 'sun';
  if (start < end) return window.days.includes(today) && clock.minutes >= start && clock.minutes < end;
  return (
    (window.days.includes(today) && clock.minutes >= start) || (window.days.includes(yesterday) && clock.minutes < end)
  );
}

/** No window means no restriction. */
export function isWithinWindows(windows: readonly MaintenanceWindow[], at: number): boolean {
  return windows.length === 0 || windows.some((window) => isWithinWindow(window, at));
}

/**
 * The next instant after `at` at which a window opens, or null when there are no windows (always
 * open) or none opens within the next week (a window that only falls in a DST gap). Candidates
 * are each listed day's start, converted from the zone's wall clock (twice in a fall-back overlap,
 * since a window closed there reopens when the hour repeats), and the zone's DST changes; one
 * that does not actually open (a start inside a gap) is dropped.
 */
export function nextWindowOpening(windows: readonly MaintenanceWindow[], at: number): number | null {
  let next: number | null = null;
  for (const window of windows) {
    // A fall-back can also move the wall clock back into a window past its start.
    for (const change of offsetChanges(window.timeZone, at, 9)) {
      if (change > at && (next === null || change < next) && isWithinWindow(window, change)) next = change;
    }
    const today = zonedClock(at, window.timeZone);
    const midnight = Date.UTC(today.year, today.month - 1, today.day);
    for (let offset = -1; offset <= 8; offset++) {
      const date = midnight + offset * DAY;
      const weekday = (new Date(date).getUTCDay() + 6) % 7;
      if (!window.days.includes(DAY_NAMES[weekday] ?? 'mon')) continue;
      for (const opening of instantsOfWall(date + minutesOfDay(window.start) * MINUTE, window.timeZone)) {
        if (opening > at && (next === null || opening < next) && isWithinWindow(window, opening)) next = opening;
      }
    }
  }
  return next;
}
