import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FilesSighting, Holder, HolderFilesWatch, KernelPort } from '@hotswap/kernel';
import type { RecoveryWatchSpec } from '@hotswap/swap';
import { RecoveryWatch } from '../src/swap/recovery.watch.js';

/**
 * The watch's two sources against a scripted port (a narrow stand-in: only `watch` and
 * `filesWatch` are called). Holder 10, whose clock started at 1000, reopens the device at 1500
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
const reopened: FilesSighting = { pid: 10, at: REOPEN_AT, files: [file(99)] };

/**
 * A host whose clock moves only when the full watch looks: each poll takes `watchMs` (real time)
 * and moves the clock on by 40 ms. Its files watch tells what the test hands it: `sight()` tells
 * at once, `pend()` keeps a sighting until the next flush (a message still on its way).
 */
class ScriptedHost {
  watchMs = 0;
  followed: number[][] = [];
  closes = 0;
  private tell: (sighting: FilesSighting) => void = () => undefined;
  private pending: FilesSighting[] = [];

  constructor(public t: number) {}

  sight(sighting: FilesSighting): void {
    this.tell(sighting);
  }

  pend(sighting: FilesSighting): void {
    this.pending.push(sighting);
  }

  port(withFilesWatch: boolean): KernelPort {
    const watch = async (): Promise<Holder[]> => {
      await sleep(this.watchMs);
      this.t += 40;
      return [{ pid: 10, comm: 'app', unit: null, files: [file(this.t >= REOPEN_AT ? 99 : 7)], mappings: [] }];
    };
    const filesWatch = (_rdevs: readonly string[], pids: readonly number[], onSighting: (s: FilesSighting) => void) => {
      this.followed.push([...pids]);
      this.tell = onSighting;
      const files: HolderFilesWatch = {
        follow: (next) => void this.followed.push([...next]),
        flush: async () => this.pending.splice(0).forEach(onSighting),
        close: async () => void this.closes++,
      };
      return files;
    };
    return { watch, ...(withFilesWatch ? { filesWatch } : {}) } as unknown as KernelPort;
  }
}

describe('recovery watch', () => {
  it('with a files watch, dates a recovery by the sighting, however late it is heard', async () => {
    const host = new ScriptedHost(1000);
    host.watchMs = 2000; // the full watch is far too slow to see it first
    const watch = new RecoveryWatch(
      host.port(true),
      spec,
      () => host.t,
      () => undefined,
    );
    host.t = 1700; // heard 200 ms after the look that saw it
    host.sight(reopened);
    const [seen] = await watch.finish(60_000);
    assert.equal(seen?.status, 'recovered');
    assert.equal(seen?.seconds, 0.5);
  });

  it('a poll that saw the reopen lets a sighting still on its way report first', async () => {
    const host = new ScriptedHost(REOPEN_AT); // already reopened: the first poll ends at 1540
    host.pend(reopened);
    const watch = new RecoveryWatch(
      host.port(true),
      spec,
      () => host.t,
      () => undefined,
    );
    const [seen] = await watch.finish(60_000);
    assert.equal(seen?.seconds, 0.5, 'seen by the look at 1500, not by the poll that ended at 1540');
  });

  it('follows the holders not seen back yet, and closes the files watch when it ends', async () => {
    const host = new ScriptedHost(1000);
    host.watchMs = 50;
    const heard: number[] = [];
    const watch = new RecoveryWatch(
      host.port(true),
      spec,
      () => host.t,
      (o) => heard.push(o.pid),
    );
    host.sight({ pid: 10, at: 1100, files: [] }); // still on the zombie (a deleted link: no file)
    host.sight(reopened);
    host.sight({ ...reopened, at: 1600 }); // told again: counted once
    const observations = await watch.finish(60_000);
    assert.deepEqual(
      observations.map((o) => [o.pid, o.seconds]),
      [[10, 0.5]],
    );
    assert.deepEqual(heard, [10]);
    assert.deepEqual(host.followed, [[10], []]);
    assert.equal(host.closes, 1);
  });

  it('without a files watch (a simulated host), the full watch dates it when its poll ends', async () => {
    const host = new ScriptedHost(1000);
    const watch = new RecoveryWatch(
      host.port(false),
      spec,
      () => host.t,
      () => undefined,
    );
    const [seen] = await watch.finish(60_000);
    assert.equal(seen?.seconds, 0.52); // polls end at 1040, 1080, ... 1520: the first after 1500
  });

  it('a sighting heard after the watch ended changes nothing', async () => {
    const host = new ScriptedHost(1000);
    const watch = new RecoveryWatch(
      host.port(true),
      spec,
      () => host.t,
      () => undefined,
    );
    watch.stop();
    const observations = await watch.finish(60_000);
    host.sight(reopened);
    assert.deepEqual(
      observations.map((o) => o.status),
      ['not-recovered'],
    );
  });
});
