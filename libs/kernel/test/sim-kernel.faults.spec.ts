import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelActionError } from '../src/kernel-action.error.js';
import { boot, entries, MISC, miscScenario, only, settle, track } from './sim.fixtures.js';

const code = (c: string) => (err: unknown) => err instanceof KernelActionError && err.code === c;

describe('sim faults', () => {
  it('unbind-hangs: the unbind never returns and holds the device lock until the host stops', async () => {
    const { kernel, clock } = boot(miscScenario([], [{ kind: 'unbind-hangs', device: 'hs_misc.0' }]));
    const unbind = track(kernel.unbind(MISC));
    await clock.advance(600_000);
    assert.equal(unbind.state, 'pending');
    assert.equal((await kernel.device(MISC))?.driver, 'hs_misc');
    await assert.rejects(kernel.bind(MISC, 'hs_misc'), code('EBUSY'));
    await kernel.close();
    await clock.advance(0);
    assert.equal(unbind.state, 'rejected');
    assert.ok(code('EIO')(unbind.error));
    await assert.rejects(kernel.unbind(MISC), code('EIO'));
  });

  it('load-fails: the next N loads fail with EIO, then loads succeed', async () => {
    const { kernel, clock } = boot(miscScenario([], [{ kind: 'load-fails', module: 'hs_misc', times: 2 }]));
    await settle(clock, kernel.unload(['hs_misc']));
    for (let i = 0; i < 2; i++) await assert.rejects(settle(clock, kernel.load({ module: 'hs_misc' })), code('EIO'));
    assert.equal(await kernel.module('hs_misc'), null);
    assert.equal((await kernel.module('hs_core'))?.refcnt, 0, 'the dependency stays loaded, unreferenced');
    await settle(clock, kernel.load({ module: 'hs_misc' }));
    assert.equal(entries(await kernel.actionLog(), 'load-failed').length, 2);
  });

  it('load-fails with a file only fails that file', async () => {
    const { kernel, clock } = boot(
      miscScenario([], [{ kind: 'load-fails', module: 'hs_misc', file: '/lib/modules/sim/hs_misc-2.0.ko' }]),
    );
    await settle(clock, kernel.unload(['hs_misc']));
    await settle(clock, kernel.load({ module: 'hs_misc', version: '1.0' }));
  });

  it('probe-fails for the new version: modprobe succeeds, the device does not come back, reopeners keep failing', async () => {
    const { kernel, clock } = boot(
      miscScenario(
        [{ comm: 'app', opens: ['/dev/hsmisc0'], onError: { action: 'reopen', reopenDelayMs: 10, retryMs: 10 } }],
        [{ kind: 'probe-fails', device: 'hs_misc.0', driverVersion: '2.0' }],
      ),
    );
    await settle(clock, kernel.unbind(MISC));
    await clock.advance(10);
    await settle(clock, kernel.unload(['hs_misc']));
    await settle(clock, kernel.load({ module: 'hs_misc' }));
    assert.equal((await kernel.device(MISC))?.driver, null);
    await assert.rejects(settle(clock, kernel.bind(MISC, 'hs_misc')), code('EIO'));
    await clock.advance(5000);
    const log = await kernel.actionLog();
    assert.equal(entries(log, 'probe-failed').length, 2);
    assert.equal(only(log, 'open-failed').errno, 'ENOENT');
    assert.deepEqual((await kernel.snapshot()).processes[0]?.files, []);

    // Rolling back to 1.0 brings the device back, and the app reopens it.
    await settle(clock, kernel.unload(['hs_misc']));
    await settle(clock, kernel.load({ module: 'hs_misc', version: '1.0' }));
    await clock.advance(20);
    assert.equal((await kernel.device(MISC))?.driver, 'hs_misc');
    assert.equal((await kernel.snapshot()).processes[0]?.files.length, 1);
  });

  it('unload-fails: the next N unloads fail with EIO, before any unbind', async () => {
    const { kernel, clock } = boot(miscScenario([], [{ kind: 'unload-fails', module: 'hs_misc' }]));
    await assert.rejects(settle(clock, kernel.unload(['hs_misc'])), code('EIO'));
    assert.equal((await kernel.device(MISC))?.driver, 'hs_misc');
    await settle(clock, kernel.unload(['hs_misc']));
    assert.equal(await kernel.module('hs_misc'), null);
  });
});
