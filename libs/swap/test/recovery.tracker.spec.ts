import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Holder } from '@hotswap/kernel';
import {
  closeRecoveries,
  observeRecoveries,
  observeReopens,
  recoverySettled,
  type TrackedHolder,
} from '../src/index.js';

/** The device's only old node: inode 7. Any other inode with its number is a new node. */
const oldIds = new Set(['240:0/7'] as const);
const tracked: TrackedHolder[] = [
  { pid: 10, comm: 'a', unit: 'a.service', t0Ms: 1000, predictedErrno: 'ENODEV' },
  { pid: 11, comm: 'b', unit: 'b.service', t0Ms: 1000, predictedErrno: 'ENODEV' },
  { pid: 12, comm: 'c', unit: null, t0Ms: 1000, predictedErrno: 'ENODEV' },
];
const holder = (pid: number, unit: string | null, ino: number | null): Holder => ({
  pid,
  comm: 'x',
  unit,
  files: ino === null ? [] : [{ fd: 3, path: '/dev/hs0', deleted: false, rdev: '240:0', ino }],
  mappings: [],
});

describe('recovery tracker', () => {
  it('a holder recovers when it holds the new node (same device number, new inode)', () => {
    const seen = observeRecoveries(
      tracked,
      [],
      [holder(10, 'a.service', 99), holder(11, 'b.service', 7)],
      oldIds,
      1750,
    );
    assert.deepEqual(
      seen.map((o) => [o.pid, o.status, o.seconds]),
      [[10, 'recovered', 0.75]],
    );
  });

  it('a zombie FD on the old node is not a recovery, whatever its path', () => {
    assert.deepEqual(observeRecoveries(tracked, [], [holder(10, 'a.service', 7)], oldIds, 2000), []);
  });

  it('a successor in the same unit under a new pid counts as restarted, once', () => {
    const seen = observeRecoveries(tracked, [], [holder(50, 'b.service', 99)], oldIds, 1500);
    assert.deepEqual(
      seen.map((o) => [o.pid, o.status, o.newPid]),
      [[11, 'restarted', 50]],
    );
    assert.deepEqual(observeRecoveries(tracked, seen, [holder(50, 'b.service', 99)], oldIds, 1600), []);
  });

  it('at the end, the rest are exited (gone) or not recovered (alive)', () => {
    const left = closeRecoveries(tracked, [], [holder(10, 'a.service', null)]);
    assert.deepEqual(
      left.map((o) => [o.pid, o.status, o.seconds]),
      [
        [10, 'not-recovered', null],
        [11, 'exited', null],
        [12, 'exited', null],
      ],
    );
  });

  it('the watch settles early only when a gone holder has no unit to restart it', () => {
    const recovered = observeRecoveries(
      tracked,
      [],
      [holder(10, 'a.service', 99), holder(11, 'b.service', 99)],
      oldIds,
      1100,
    );
    assert.equal(recoverySettled(tracked, recovered, [holder(10, 'a.service', 99), holder(11, 'b.service', 99)]), true);
    assert.equal(recoverySettled(tracked, recovered.slice(0, 1), [holder(10, 'a.service', 99)]), false);
  });

  describe('sightings of the holders own fds (the tight look)', () => {
    const file = (ino: number, deleted = false) => ({ fd: 3, path: '/dev/hs0', deleted, rdev: '240:0', ino });

    it('dates each recovery by when that process was seen, not by when the look ended', () => {
      const seen = observeReopens(
        tracked,
        [],
        [
          { pid: 10, at: 1203.5, files: [file(99)] },
          { pid: 11, at: 1204, files: [file(7, true)] },
          { pid: 12, at: 1204.5, files: [file(100)] },
        ],
        oldIds,
      );
      assert.deepEqual(
        seen.map((o) => [o.pid, o.status, o.seconds]),
        [
          [10, 'recovered', 0.2035],
          [12, 'recovered', 0.2045],
        ],
      );
    });

    it('an old identity is no recovery even when its link is not marked deleted', () => {
      assert.deepEqual(observeReopens(tracked, [], [{ pid: 10, at: 1500, files: [file(7)] }], oldIds), []);
    });

    it('a process already observed is not observed again; other pids are not successors', () => {
      const first = observeReopens(tracked, [], [{ pid: 10, at: 1100, files: [file(99)] }], oldIds);
      assert.deepEqual(observeReopens(tracked, first, [{ pid: 10, at: 1200, files: [file(99)] }], oldIds), []);
      assert.deepEqual(observeReopens(tracked, [], [{ pid: 50, at: 1200, files: [file(99)] }], oldIds), []);
    });

    it('a sighting before t0 counts as zero, never negative', () => {
      const [seen] = observeReopens(tracked, [], [{ pid: 10, at: 999, files: [file(99)] }], oldIds);
      assert.equal(seen?.seconds, 0);
    });
  });
});
