import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { MaintenanceWindow } from '@hotswap/runbook';
import { isWithinWindow, isWithinWindows, nextWindowOpening, zonedClock } from '../src/index.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const window = (days: MaintenanceWindow['days'], start: string, end: string, timeZone = 'UTC'): MaintenanceWindow => ({
  days,
  start,
  end,
  timeZone,
});

describe('zonedClock', () => {
  it('reads the wall clock of a zone, Monday = 0', () => {
    assert.deepEqual(zonedClock(at('2024-03-25T23:30:00Z'), 'Europe/Paris'), {
      year: 2024,
      month: 3,
      day: 26,
      weekday: 1,
      minutes: 30,
    });
    assert.equal(zonedClock(at('2024-03-25T00:00:00Z'), 'UTC').minutes, 0);
    assert.equal(zonedClock(at('2024-03-24T12:00:00Z'), 'UTC').weekday, 6);
  });
});

describe('isWithinWindow', () => {
  it('a same-day window: start inclusive, end exclusive, only on its days', () => {
    const w = window(['mon'], '02:00', '04:00');
    assert.equal(isWithinWindow(w, at('2024-03-25T01:59:00Z')), false);
    assert.equal(isWithinWindow(w, at('2024-03-25T02:00:00Z')), true);
    assert.equal(isWithinWindow(w, at('2024-03-25T03:59:59Z')), true);
    assert.equal(isWithinWindow(w, at('2024-03-25T04:00:00Z')), false);
    assert.equal(isWithinWindow(w, at('2024-03-26T03:00:00Z')), false);
  });

  it('a window crossing midnight belongs to the day it starts on', () => {
    const w = window(['fri'], '22:00', '02:00');
    assert.equal(isWithinWindow(w, at('2024-03-29T21:59:00Z')), false);
    assert.equal(isWithinWindow(w, at('2024-03-29T22:00:00Z')), true);
    assert.equal(isWithinWindow(w, at('2024-03-30T01:59:00Z')), true); // Saturday early
    assert.equal(isWithinWindow(w, at('2024-03-30T02:00:00Z')), false);
    assert.equal(isWithinWindow(w, at('2024-03-29T01:00:00Z')), false); // Friday early: Thursday's
  });

  it('"24:00" ends at midnight; the local time zone is used', () => {
    const w = window(['sat'], '00:00', '24:00', 'Asia/Tokyo');
    assert.equal(isWithinWindow(w, at('2024-03-29T15:00:00Z')), true); // Sat 00:00 JST
    assert.equal(isWithinWindow(w, at('2024-03-29T14:59:00Z')), false);
    assert.equal(isWithinWindow(w, at('2024-03-30T14:59:00Z')), true);
    assert.equal(isWithinWindow(w, at('2024-03-30T15:00:00Z')), false);
  });

  it('no windows: always open', () => {
    assert.equal(isWithinWindows([], at('2024-03-25T12:00:00Z')), true);
    assert.equal(nextWindowOpening([], at('2024-03-25T12:00:00Z')), null);
  });
});

describe('nextWindowOpening', () => {
  it('the next start on a listed day, this week or next', () => {
    const w = window(['mon', 'thu'], '22:00', '02:00');
    assert.equal(iso(nextWindowOpening([w], at('2024-03-25T12:00:00Z'))), '2024-03-25T22:00:00.000Z');
    assert.equal(iso(nextWindowOpening([w], at('2024-03-26T03:00:00Z'))), '2024-03-28T22:00:00.000Z');
    assert.equal(iso(nextWindowOpening([w], at('2024-03-29T03:00:00Z'))), '2024-04-01T22:00:00.000Z');
  });

  it('the earliest of several windows, each in its own zone', () => {
    const windows = [
      window(['tue'], '01:00', '03:00', 'America/New_York'),
      window(['tue'], '03:00', '04:00', 'Europe/Paris'),
    ];
    // Tue 03:00 Paris (02:00Z, still CET) comes before Tue 01:00 New York (05:00Z, already EDT).
    assert.equal(iso(nextWindowOpening(windows, at('2024-03-25T12:00:00Z'))), '2024-03-26T02:00:00.000Z');
  });

  it('spring forward: a start inside the gap opens when the gap ends', () => {
    // Europe/Paris, 2024-03-31: 02:00 CET jumps to 03:00 CEST at 01:00Z.
    const w = window(['sun'], '02:30', '04:00', 'Europe/Paris');
    assert.equal(iso(nextWindowOpening([w], at('2024-03-30T12:00:00Z'))), '2024-03-31T01:00:00.000Z');
    assert.equal(isWithinWindow(w, at('2024-03-31T01:00:00Z')), true);
    assert.equal(isWithinWindow(w, at('2024-03-31T00:59:00Z')), false);
    // A window entirely inside the gap does not happen that day: next Sunday.
    const lost = window(['sun'], '02:10', '02:40', 'Europe/Paris');
    assert.equal(iso(nextWindowOpening([lost], at('2024-03-30T12:00:00Z'))), '2024-04-07T00:10:00.000Z');
  });

  it('fall back: the repeated hour opens the window twice; the jump back can reopen one', () => {
    // Europe/Paris, 2024-10-27: 03:00 CEST falls back to 02:00 CET at 01:00Z.
    const w = window(['sun'], '02:30', '02:45', 'Europe/Paris');
    assert.equal(iso(nextWindowOpening([w], at('2024-10-26T12:00:00Z'))), '2024-10-27T00:30:00.000Z');
    assert.equal(iso(nextWindowOpening([w], at('2024-10-27T00:50:00Z'))), '2024-10-27T01:30:00.000Z');
    const across = window(['sun'], '01:50', '02:30', 'Europe/Paris');
    assert.equal(isWithinWindow(across, at('2024-10-27T00:40:00Z')), false); // 02:40 CEST
    assert.equal(iso(nextWindowOpening([across], at('2024-10-27T00:40:00Z'))), '2024-10-27T01:00:00.000Z');
  });

  it('midnight-crossing windows across a DST change (New York, 2024-11-03)', () => {
    const w = window(['sat'], '23:00', '03:00', 'America/New_York');
    assert.equal(iso(nextWindowOpening([w], at('2024-11-01T12:00:00Z'))), '2024-11-03T03:00:00.000Z'); // 23:00 EDT
    assert.equal(isWithinWindow(w, at('2024-11-03T07:59:00Z')), true); // 02:59 EST
    assert.equal(isWithinWindow(w, at('2024-11-03T08:00:00Z')), false); // 03:00 EST
  });

  it('a half-hour DST shift (Lord Howe) and a half-hour zone (Kolkata)', () => {
    // Australia/Lord_Howe, 2024-04-07: 02:00 (+11) falls back to 01:30 (+10:30).
    const w = window(['sun'], '01:45', '03:00', 'Australia/Lord_Howe');
    assert.equal(iso(nextWindowOpening([w], at('2024-04-06T00:00:00Z'))), '2024-04-06T14:45:00.000Z');
    const kolkata = window(['mon'], '09:00', '10:00', 'Asia/Kolkata');
    assert.equal(iso(nextWindowOpening([kolkata], at('2024-03-24T00:00:00Z'))), '2024-03-25T03:30:00.000Z');
  });

  const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kolkata'];
  const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
  const clock = fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 1, 15, 30, 45, 59))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const windowArb = fc
    .record({
      days: fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 3 }),
      start: clock,
      end: fc.oneof(clock, fc.constant('24:00')),
      timeZone: fc.constantFrom(...ZONES),
    })
    .filter((w) => w.start !== w.end);
  /** Minutes around the 2024 DST changes of these zones, and elsewhere. */
  const instantArb = fc
    .tuple(
      fc.constantFrom(
        '2024-03-10',
        '2024-03-31',
        '2024-04-07',
        '2024-09-08',
        '2024-10-06',
        '2024-10-27',
        '2024-11-03',
        '2024-06-15',
      ),
      fc.integer({ min: -3 * 24 * 60, max: 3 * 24 * 60 }),
    )
    .map(([day, minutes]) => Date.parse(`${day}T00:00:00Z`) + minutes * 60_000);

  it('is the first minute after now at which a window is open (checked minute by minute)', () => {
    fc.assert(
      fc.property(fc.array(windowArb, { minLength: 1, maxLength: 2 }), instantArb, (windows, now) => {
        if (isWithinWindows(windows, now)) return;
        const opening = nextWindowOpening(windows, now);
        let expected: number | null = null;
        for (let t = now + 60_000; t <= now + 8 * 24 * 3_600_000; t += 60_000) {
          if (isWithinWindows(windows, t)) {
            expected = t;
            break;
          }
        }
        assert.equal(iso(opening), iso(expected), JSON.stringify(windows));
      }),
      { numRuns: 60 },
    );
  });
});
