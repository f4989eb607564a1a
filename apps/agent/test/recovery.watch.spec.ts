import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FilesSighting, Holder, HolderFilesProbe, KernelPort } from '@hotswap/kernel';
import type { RecoveryWatchSpec } from '@hotswap/swap';
import { RecoveryWatch } from '../src/swap/recovery.watch.js';

/**
 * The watch's two loops against a scripted port (a narrow stand-in: only `watch` and
 * `filesProbe` are called). Holder 10, whose clock started at 1000, reopens the device at 1500
 * on the host's clock: the new node is inode 99, the old one inode 7.
 */
const spec: RecoveryWatchSpec = {
  tracked: [{ pid: 10, comm: 'app', unit: null, t0Ms: 1000, predictedErrno: 'ENODEV' }],
  scope: { pids: [10], units: [] },
  rdevs: ['240:0'],
  oldNodes: [{ rdev: '240:0', ino: 7 }],
  pollMs: 10,
};
const REOPEN_AT = 1500;
const file = (ino: number) => ({ fd: 3, path: '/dev/hs0', deleted: false, rdev: '240:0', ino });

/**
 * A host whose clock moves only when the watch looks: a full watch takes `watchMs` (real time)
 * and moves the clock on by 40 ms, a sighting reads the clock, takes `sightMs` (the stat of its
 * candidates) and moves it on by `sightStep`.
 */
class ScriptedHost {
  sights = 0;
  watchMs = 0;
  sightMs = 1;
  sightStep = 0;

  constructor(public t: number) {}

  port(withProbe: boolean): KernelPort {
    const watch = async (): Promise<Holder[]> => {
      await sleep(this.watchMs);
      this.t += 40;
      return [{ pid: 10, comm: 'app', unit: null, files: [file(this.t >= REOPEN_AT ? 99 : 7)], mappings: [] }];
    };
    const probe: HolderFilesProbe = {
      sight: async (): Promise<FilesSighting[]> => {
        this.sights++;
        const at = this.t;
        this.t += this.sightStep;
        await sleep(this.sightMs);
        return [{ pid: 10, at, files: [file(at >= REOPEN_AT ? 99 : 7)] }];
      },
    };
    const port = { watch, ...(withProbe ? { filesProbe: () => probe } : {}) };
    return port as unknown as KernelPort;
  }
}

describe('recovery watch', () => {
  it('with a files probe, dates a recovery by the first sighting that saw it', async () => {
    const host = new ScriptedHost(1000);
    host.watchMs = 2000; // the full watch is far too slow to see it first
    host.sightStep = 10;
    const watch = new RecoveryWatch(
      host.port(true),
      spec,
      () => host.t,
      () => undefined,
    );
    const [seen] = await watch.finish(60_000);
    assert.equal(seen?.status, 'recovered');
    assert.equal(seen?.seconds, 0.5); // sightings at 1000, 1010, ... 1500
  });

  it('a full watch that ends while a sighting is in flight lets the sighting report first', async () => {
    const host = new ScriptedHost(REOPEN_AT); // already reopened
    host.watchMs = 5;
    host.sightMs = 100;
    const watch = new RecoveryWatch(
      host.port(true),
      spec,
      () => host.t,
      () => undefined,
    );
    const [seen] = await watch.finish(60_000);
    assert.equal(seen?.seconds, 0.5, 'seen by the sighting that looked at 1500, not by the poll that ended at 1540');
  });

  it('looks on every few ms while earlier looks are still telling what they saw', async () => {
    const start = Date.now();
    const reopenAt = start + 5; // on the real clock: this test's host is the wall clock
    const slowStat: KernelPort = {
      watch: async () => [{ pid: 10, comm: 'app', unit: null, files: [], mappings: [] }],
      filesProbe: () => ({
        sight: async (): Promise<FilesSighting[]> => {
          const at = Date.now();
          await sleep(300); // a stat queued behind a busy thread pool
          return [{ pid: 10, at, files: [file(at >= reopenAt ? 99 : 7)] }];
        },
      }),
    } as unknown as KernelPort;
    let seen: (seconds: number) => void = () => undefined;
    const seenAt = new Promise<number>((resolve) => (seen = (seconds) => resolve(start + seconds * 1000)));
    const watch = new RecoveryWatch(
      slowStat,
      { ...spec, tracked: [{ ...spec.tracked[0]!, t0Ms: start }] },
      Date.now,
      (o) => seen(o.seconds ?? Number.NaN),
    );
    const at = await seenAt;
    watch.stop();
    assert.ok(
      at >= reopenAt && at < reopenAt + 150,
      `seen ${at - reopenAt} ms after the reopen (one look per 300 ms would say ~300)`,
    );
  });

  it('without a probe (a simulated host), the full watch dates it when its poll ends', async () => {
    const host = new ScriptedHost(1000);
    const watch = new RecoveryWatch(
      host.port(false),
      spec,
      () => host.t,
      () => undefined,
    );
    const [seen] = await watch.finish(60_000);
    assert.equal(host.sights, 0);
    assert.equal(seen?.seconds, 0.52); // polls end at 1040, 1080, ... 1520: the first after 1500
  });

  it('reports each recovery once, to the observer as well', async () => {
    const host = new ScriptedHost(1000);
    host.sightStep = 7;
    const heard: number[] = [];
    const watch = new RecoveryWatch(
      host.port(true),
      spec,
      () => host.t,
      (o) => heard.push(o.pid),
    );
    const observations = await watch.finish(60_000);
    assert.deepEqual(
      observations.map((o) => o.pid),
      [10],
    );
    assert.deepEqual(heard, [10]);
  });
});
