import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KernelActionError } from '../src/kernel-action.error.js';
import { LinuxKernelAdapter } from '../src/linux/linux.adapter.js';
import { returnedAtOf, timedWriteError } from '../src/linux/timed-sysfs.write.js';
import { makeTempSysfs } from './fixtures/linux/temp-sysfs.js';

const FOOD = { bus: 'platform', id: 'food.0' };

/** Keeps this process's event loop busy: whatever the child does meanwhile, we hear of it late. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

describe('linux adapter, the unbind child stamps when its write returned', () => {
  let root: string;
  let sys: string;
  let kernel: LinuxKernelAdapter;

  before(() => {
    ({ root, sys } = makeTempSysfs());
    kernel = new LinuxKernelAdapter({ roots: { sys, proc: '/proc', dev: join(root, 'dev') } });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('resolves with the return time of the write, on the agent clock', async () => {
    const before = Date.now();
    const returned = await kernel.unbind(FOOD);
    const after = Date.now();
    assert.equal(readFileSync(join(sys, 'bus/platform/drivers/food/unbind'), 'utf8'), 'food.0');
    assert.ok(
      returned.returnedAt >= before && returned.returnedAt <= after + 1,
      `${before} <= ${returned.returnedAt} <= ${after}`,
    );
  });

  it('is the moment the write returned in the child, not when the agent heard of it', async () => {
    const fifo = join(sys, 'bus/platform/drivers/food/unbind');
    unlinkSync(fifo);
    execFileSync('mkfifo', [fifo]);
    const pending = kernel.unbind(FOOD);
    // Read what the child writes: returns once it has written and closed (exited), so its write
    // returned before `read` here. Then keep the event loop busy: the agent hears of it late.
    while (kernel.liveActions().length === 0) await sleep(5); // the child runs: a reader can open the FIFO
    const written = readFileSync(fifo, 'utf8');
    const read = Date.now();
    busy(400);
    const { returnedAt } = await pending;
    const heard = Date.now();
    assert.equal(written, 'food.0');
    assert.ok(returnedAt <= read + 1, `stamped ${returnedAt}, the write was read at ${read}`);
    assert.ok(heard - returnedAt >= 400, `heard ${heard - returnedAt} ms after the write returned`);
  });

  it('says it is writing once the file is open, before its write, and not before', async () => {
    const fifo = join(sys, 'bus/platform/drivers/food/unbind');
    rmSync(fifo, { force: true });
    execFileSync('mkfifo', [fifo]);
    const events: string[] = [];
    const pending = kernel.unbind(FOOD, () => events.push('writing'));
    // A FIFO's open for writing waits for a reader: the child is alive and has not opened it yet.
    while (kernel.liveActions().length === 0) await sleep(5);
    await sleep(200);
    assert.equal(events.length, 0, 'not while its open waits');
    const written = readFileSync(fifo, 'utf8');
    await pending.then(() => events.push('returned'));
    assert.equal(written, 'food.0');
    assert.deepEqual(events, ['writing', 'returned']);
  });

  it('a failed write names the errno the child met, and creates nothing', async () => {
    rmSync(join(sys, 'bus/platform/drivers/food/unbind'));
    await assert.rejects(kernel.unbind(FOOD), (err: unknown) => {
      assert.ok(err instanceof KernelActionError);
      assert.equal(err.code, 'ENOENT');
      assert.match(err.message, /unbind platform food.0 from food failed \(exit 1\): ENOENT: no such file/);
      return true;
    });
    assert.throws(() => readFileSync(join(sys, 'bus/platform/drivers/food/unbind')), { code: 'ENOENT' });
  });
});

describe('timed sysfs write, its output and errors', () => {
  it('converts the child CLOCK_MONOTONIC stamp to the agent clock by how long ago it was', () => {
    const now = () => 1_000_000;
    const monotonic = () => 5_012_500_000n; // 5012.5 ms
    assert.equal(returnedAtOf('returned 5000000000\n', now, monotonic), 1_000_000 - 12.5);
  });

  it('refuses output without a stamp', () => {
    assert.throws(
      () => returnedAtOf('something else\n', Date.now, process.hrtime.bigint),
      (err: unknown) => err instanceof KernelActionError && err.code === 'EIO',
    );
  });

  it("takes the child's errno name when it is one of the port's codes, else keeps the mapping", () => {
    const failed = (text: string) => new KernelActionError('EIO', `unbind pci 0000:03:00.0 failed (exit 1): ${text}`);
    assert.equal(timedWriteError(failed('EBUSY: resource busy or locked, write')).code, 'EBUSY');
    assert.equal(timedWriteError(failed('EEXIST: file already exists, write')).code, 'EEXIST');
    assert.equal(timedWriteError(failed('EACCES: permission denied, open')).code, 'EIO');
    assert.equal(timedWriteError(failed('no errno here')).code, 'EIO');
  });
});
