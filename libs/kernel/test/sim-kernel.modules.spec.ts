import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelActionError } from '../src/kernel-action.error.js';
import { boot, entries, ignoring, MISC, miscScenario, only, settle } from './sim.fixtures.js';

const code = (c: string, message?: RegExp) => (err: unknown) =>
  err instanceof KernelActionError && err.code === c && (!message || message.test(err.message));

describe('sim modules', () => {
  it('reports modules as /sys/module does: version, srcversion, refcnt, holders, file, params', async () => {
    const { kernel } = boot(miscScenario([ignoring('app', ['/dev/hsmisc0'])]));
    assert.deepEqual(await kernel.module('hs_core'), {
      name: 'hs_core',
      version: '1.0',
      srcversion: 'C0RE1',
      refcnt: 1,
      holders: ['hs_misc'],
      dependsOn: [],
      unloadable: true,
      file: '/lib/modules/sim/hs_core.ko',
      params: [],
    });
    const misc = await kernel.module('hs_misc');
    assert.deepEqual([misc?.refcnt, misc?.params, misc?.dependsOn], [1, ['debug=0'], ['hs_core']]);
    assert.deepEqual(await kernel.module('builtin_x'), {
      name: 'builtin_x',
      version: null,
      srcversion: null,
      refcnt: 0,
      holders: [],
      dependsOn: [],
      unloadable: false,
      file: null,
      params: [],
    });
    assert.equal(await kernel.module('nope'), null);
  });

  it('resolves load targets like modprobe: default file, by version, by file', async () => {
    const { kernel } = boot(miscScenario([]));
    assert.deepEqual(await kernel.resolveTarget({ module: 'hs_misc' }), {
      module: 'hs_misc',
      file: '/lib/modules/sim/hs_misc-2.0.ko',
      version: '2.0',
      srcversion: 'BBBB2',
    });
    assert.equal(
      (await kernel.resolveTarget({ module: 'hs_misc', version: '1.0' })).file,
      '/lib/modules/sim/hs_misc-1.0.ko',
    );
    assert.equal(
      (await kernel.resolveTarget({ module: 'hs_misc', file: '/lib/modules/sim/hs_misc-3.0-rc.ko' })).version,
      '3.0-rc',
    );
    assert.equal(
      (await kernel.resolveTarget({ module: 'hs_core' })).file,
      '/lib/modules/sim/hs_core.ko',
      'the boot file',
    );
    await assert.rejects(kernel.resolveTarget({ module: 'hs_misc', version: '9.9' }), code('ENOENT'));
    await assert.rejects(kernel.resolveTarget({ module: 'nope' }), code('ENOENT'));
    await assert.rejects(kernel.resolveTarget({ module: 'hs_misc', file: '/nope.ko' }), code('ENOENT'));
    await assert.rejects(
      kernel.resolveTarget({ module: 'hs_core', file: '/lib/modules/sim/hs_misc-2.0.ko' }),
      code('EINVAL'),
    );
  });

  it('loads by name (default), by version and by file, recording file and params', async () => {
    const { kernel, clock } = boot(miscScenario([]));
    const cases = [
      [{ module: 'hs_misc', params: ['debug=1'] }, '2.0', '/lib/modules/sim/hs_misc-2.0.ko'],
      [{ module: 'hs_misc', version: '1.0' }, '1.0', '/lib/modules/sim/hs_misc-1.0.ko'],
      [
        { module: 'hs_misc', file: '/lib/modules/sim/hs_misc-3.0-rc.ko' },
        '3.0-rc',
        '/lib/modules/sim/hs_misc-3.0-rc.ko',
      ],
    ] as const;
    for (const [spec, version, file] of cases) {
      await settle(clock, kernel.unload(['hs_misc']));
      await settle(clock, kernel.load(spec));
      const loaded = await kernel.module('hs_misc');
      assert.deepEqual(
        [loaded?.version, loaded?.file, loaded?.params],
        [version, file, 'params' in spec ? spec.params : []],
      );
    }
  });

  it('auto-probes after a driver module loads: the device is bound before modprobe returns', async () => {
    const { kernel, clock } = boot(miscScenario([]));
    await settle(clock, kernel.unload(['hs_misc']));
    await settle(clock, kernel.load({ module: 'hs_misc' }));
    assert.equal((await kernel.device(MISC))?.driver, 'hs_misc');
    const log = await kernel.actionLog();
    const load = entries(log, 'load', { module: 'hs_misc' }).at(-1)!;
    const bind = only(log, 'bind');
    assert.equal(bind.mono - load.mono, 20, 'probeMs after the module is live');
    assert.equal(bind.version, '2.0');
    assert.equal(load.detail, 'version 2.0 from /lib/modules/sim/hs_misc-2.0.ko');
    await assert.rejects(
      kernel.bind(MISC, 'hs_misc'),
      code('EBUSY'),
      'an explicit bind after auto-probe finds it bound',
    );
  });

  it('loading a loaded module is a no-op by name, EEXIST by another file', async () => {
    const { kernel, clock } = boot(miscScenario([]));
    const before = (await kernel.actionLog()).length;
    await settle(clock, kernel.load({ module: 'hs_misc', version: '2.0' }));
    assert.equal((await kernel.module('hs_misc'))?.version, '1.0', 'modprobe of a loaded module does nothing');
    assert.equal((await kernel.actionLog()).length, before);
    await settle(clock, kernel.load({ module: 'hs_misc', file: '/lib/modules/sim/hs_misc-1.0.ko' }));
    await assert.rejects(
      settle(clock, kernel.load({ module: 'hs_misc', file: '/lib/modules/sim/hs_misc-2.0.ko' })),
      code('EEXIST'),
    );
    await settle(clock, kernel.load({ module: 'builtin_x' }));
  });

  it('modprobe -r removes dependencies left unused; load brings them back first', async () => {
    const { kernel, clock } = boot(miscScenario([]));
    await settle(clock, kernel.unload(['hs_misc']));
    assert.equal(await kernel.module('hs_core'), null, 'hs_core was only used by hs_misc');
    await settle(clock, kernel.load({ module: 'hs_misc' }));
    const log = await kernel.actionLog();
    const loads = entries(log, 'load').map((e) => e.module);
    assert.deepEqual(loads, ['hs_core', 'hs_misc'], 'dependency first');
    assert.deepEqual((await kernel.module('hs_core'))?.holders, ['hs_misc']);
  });

  it('modprobe -r stops at the first refusal; later modules stay loaded', async () => {
    const { kernel, clock } = boot(miscScenario([ignoring('app', ['/dev/hsmisc0'])]));
    await assert.rejects(settle(clock, kernel.unload(['hs_misc', 'hs_core'])), code('EBUSY', /hs_misc is in use/));
    assert.ok(await kernel.module('hs_core'));
    await assert.rejects(settle(clock, kernel.unload(['hs_core'])), code('EBUSY', /in use by: hs_misc/));
    await assert.rejects(settle(clock, kernel.unload(['nope'])), code('ENOENT', /not currently loaded/));
    await assert.rejects(settle(clock, kernel.unload(['builtin_x'])), code('EINVAL', /builtin/));
    assert.deepEqual(
      entries(await kernel.actionLog(), 'unload-refused').map((e) => [e.module, e.errno]),
      [
        ['hs_misc', 'EBUSY'],
        ['hs_core', 'EBUSY'],
        ['nope', 'ENOENT'],
        ['builtin_x', 'EINVAL'],
      ],
    );
  });

  it('modprobe -r of a whole stack, top first, unloads every listed module', async () => {
    const { kernel, clock } = boot(miscScenario([]));
    await settle(clock, kernel.unload(['hs_misc', 'hs_core']));
    assert.deepEqual(
      entries(await kernel.actionLog(), 'unload').map((e) => e.module),
      ['hs_misc', 'hs_core'],
    );
  });

  it('a module that is going cannot be pinned by a new open, and a load waits for it to be gone', async () => {
    const { kernel, clock } = boot(miscScenario([ignoring('app', [])]));
    const pid = (await kernel.snapshot()).processes[0]!.pid;
    const unload = kernel.unload(['hs_misc']);
    await clock.advance(1); // unbind in progress: node still there, module going
    await assert.rejects(kernel.openFile(pid, '/dev/hsmisc0'), code('ENODEV'));
    const load = kernel.load({ module: 'hs_misc' });
    await settle(clock, unload);
    await settle(clock, load);
    assert.equal((await kernel.module('hs_misc'))?.version, '2.0');
  });
});
