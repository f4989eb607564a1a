import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelActionError } from '../src/kernel-action.error.js';
import { boot, entries, ignoring, MISC, miscScenario, only, settle } from './sim.fixtures.js';

type OnError = { action: 'reopen' | 'ignore' | 'exit' | 'restart' } & Record<string, number | string>;
const app = (comm: string, onError: OnError, opens: string[] = ['/dev/hsmisc0']) => ({
  comm,
  unit: `${comm}.service`,
  opens,
  onError,
});

/** unbind, modprobe -r, modprobe (2.0, auto-probe binds): the agent's sequence, quickly. */
async function swap(
  kernel: ReturnType<typeof boot>['kernel'],
  clock: ReturnType<typeof boot>['clock'],
  zombieWaitMs = 0,
) {
  await settle(clock, kernel.unbind(MISC));
  await clock.advance(zombieWaitMs);
  await settle(clock, kernel.unload(['hs_misc']));
  await settle(clock, kernel.load({ module: 'hs_misc' }));
}

describe('sim processes', () => {
  it('reopen: the first open comes within [delay, delay + jitter + retry] of the error, on the new node', async () => {
    const delays: number[] = [];
    for (let seed = 1; seed <= 25; seed++) {
      const { kernel, clock } = boot({
        ...miscScenario([app('app', { action: 'reopen', reopenDelayMs: 800, jitterMs: 200, retryMs: 10 })]),
        seed,
      });
      await swap(kernel, clock); // back in ~85 ms: before the app retries
      await clock.advance(2000);
      const log = await kernel.actionLog();
      const error = only(log, 'notify');
      const reopened = entries(log, 'open').filter((e) => e.seq > error.seq);
      assert.equal(reopened.length, 1);
      const delay = reopened[0]!.mono - error.mono;
      assert.ok(delay >= 800 && delay <= 800 + 200 + 10, `seed ${seed}: reopened after ${delay} ms`);
      assert.equal(reopened[0]!.ino, (await kernel.device(MISC))?.nodes[0]?.ino, 'on the new node');
      assert.equal(entries(log, 'open-failed').length, 0);
      delays.push(delay);
    }
    assert.ok(new Set(delays).size > 10, 'jitter varies with the seed');
  });

  it('reopen: retries every retryMs while the node does not exist, and opens within retryMs of the bind', async () => {
    const { kernel, clock } = boot(miscScenario([app('app', { action: 'reopen', reopenDelayMs: 100, retryMs: 10 })]));
    await settle(clock, kernel.unbind(MISC));
    await clock.advance(500); // the app closed its zombie and fails with ENOENT meanwhile
    await settle(clock, kernel.unload(['hs_misc']));
    await settle(clock, kernel.load({ module: 'hs_misc' }));
    await clock.advance(20);
    const log = await kernel.actionLog();
    const failed = only(log, 'open-failed');
    assert.equal(failed.errno, 'ENOENT');
    const bind = only(log, 'bind');
    const reopen = entries(log, 'open').at(-1)!;
    assert.ok(
      reopen.mono - bind.mono >= 0 && reopen.mono - bind.mono <= 10,
      `${reopen.mono - bind.mono} ms after bind`,
    );
  });

  it('restart: exits, then a new pid with the same comm and unit opens the node once it exists', async () => {
    const { kernel, clock } = boot(
      miscScenario([app('app', { action: 'restart', closeAfterMs: 50, restartDelayMs: 100, retryMs: 10 })]),
    );
    const old = (await kernel.snapshot()).processes[0]!.pid;
    await assert.rejects(
      settle(clock, kernel.unload(['hs_misc'])),
      (e) => e instanceof KernelActionError && e.code === 'EBUSY',
    );
    await swap(kernel, clock, 50); // the zombie pins hs_misc until the app exits, 50 ms after the error
    await clock.advance(1000);
    const log = await kernel.actionLog();
    const exit = only(log, 'exit', { pid: old });
    const spawn = entries(log, 'spawn').at(-1)!;
    assert.notEqual(spawn.pid, old);
    assert.equal(spawn.mono - exit.mono, 100);
    const [proc] = (await kernel.snapshot()).processes;
    assert.deepEqual([proc?.pid, proc?.comm, proc?.unit], [spawn.pid, 'app', 'app.service']);
    assert.equal(proc?.files[0]?.ino, (await kernel.device(MISC))?.nodes[0]?.ino);
    await assert.rejects(kernel.signal(old, 'SIGTERM'), (e) => e instanceof KernelActionError && e.code === 'ENOENT');
    const watched = await kernel.watch({ pids: [old], units: ['app.service'] }, ['240:0']);
    assert.deepEqual(
      watched.map((h) => h.pid),
      [spawn.pid],
      'watch finds the new pid by its unit',
    );
  });

  it('exit: the process exits after closeAfterMs and never comes back; ignore: the zombie stays', async () => {
    const { kernel, clock } = boot(
      miscScenario([app('quitter', { action: 'exit', closeAfterMs: 30 }), app('stubborn', { action: 'ignore' })]),
    );
    await settle(clock, kernel.unbind(MISC));
    await clock.advance(60_000);
    const log = await kernel.actionLog();
    const exit = only(log, 'exit');
    assert.equal(exit.comm, 'quitter');
    assert.equal(exit.mono - only(log, 'unbind-done').mono, 30);
    assert.equal(entries(log, 'spawn').length, 2, 'only the boot spawns');
    const snap = await kernel.snapshot();
    assert.deepEqual(
      snap.processes.map((p) => p.comm),
      ['stubborn'],
    );
    assert.equal(snap.processes[0]?.files[0]?.deleted, true, 'still holds its zombie after a minute');
    assert.equal((await kernel.module('hs_misc'))?.refcnt, 1, 'the exited process released its zombie');
  });

  it('signal: SIGTERM and SIGKILL end the process and close its files; unknown pid is ENOENT', async () => {
    const { kernel } = boot(miscScenario([app('a', { action: 'ignore' }), app('b', { action: 'ignore' })]));
    const [a, b] = (await kernel.snapshot()).processes.map((p) => p.pid) as [number, number];
    await kernel.signal(a, 'SIGTERM');
    await kernel.signal(b, 'SIGKILL');
    assert.deepEqual((await kernel.snapshot()).processes, []);
    assert.equal((await kernel.module('hs_misc'))?.refcnt, 0);
    await assert.rejects(kernel.signal(99999, 'SIGKILL'), (e) => e instanceof KernelActionError && e.code === 'ENOENT');
    assert.deepEqual(
      entries(await kernel.actionLog(), 'signal').map((e) => e.detail),
      ['SIGTERM', 'SIGKILL'],
    );
  });

  it('a mapping keeps the file, and its module reference, after the fd is closed', async () => {
    const { kernel } = boot(miscScenario([{ comm: 'mapper', opens: [{ path: '/dev/hsmisc0', mmap: true }] }]));
    const pid = (await kernel.snapshot()).processes[0]!.pid;
    assert.equal((await kernel.module('hs_misc'))?.refcnt, 1, 'one struct file for the fd and the mapping');
    await kernel.closeFile(pid, 3);
    assert.equal((await kernel.module('hs_misc'))?.refcnt, 1);
    const [holder] = await kernel.census(['240:0']);
    assert.deepEqual(holder?.files, []);
    assert.equal(holder?.mappings.length, 1);
  });

  it('allocates the lowest free fd from 3, and census/watch filter files by device number', async () => {
    const { kernel } = boot(
      miscScenario([ignoring('app', ['/dev/hsmisc0', '/dev/hsmisc0', '/dev/hsmisc0']), ignoring('idle', [])]),
    );
    const [appPid, idle] = (await kernel.snapshot()).processes.map((p) => p.pid) as [number, number];
    await kernel.closeFile(appPid, 4);
    assert.equal(await kernel.openFile(appPid, '/dev/hsmisc0'), 4);
    assert.equal(await kernel.openFile(appPid, '/dev/hsmisc0'), 6);
    assert.deepEqual(
      (await kernel.census(['240:0'])).map((h) => h.pid),
      [appPid],
    );
    assert.deepEqual(await kernel.census(['1:3']), []);
    const watched = await kernel.watch({ pids: [appPid, idle], units: [] }, ['1:3']);
    assert.deepEqual(
      watched.map((h) => [h.pid, h.files.length]),
      [
        [appPid, 0],
        [idle, 0],
      ],
      'watch returns every live process of the scope, files filtered',
    );
  });
});
