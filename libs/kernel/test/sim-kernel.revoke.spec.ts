import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelActionError } from '../src/kernel-action.error.js';
import { boot, entries, ignoring, MISC, miscScenario, only, RDMA, rdmaScenario, settle } from './sim.fixtures.js';

const rejectsWith = (code: string, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof KernelActionError, `not a KernelActionError: ${String(err)}`);
  assert.equal(err.code, code);
  if (message) assert.match(err.message, message);
  return true;
};

describe('sim kernel, revoke scheme, driver-owned fops', () => {
  it('turns open files into zombies that keep the old rdev and inode and pin the driver module', async () => {
    const { kernel, clock } = boot(
      miscScenario([ignoring('app-a', ['/dev/hsmisc0']), ignoring('app-b', ['/dev/hsmisc0'])]),
    );
    const [before] = (await kernel.device(MISC))!.nodes;
    assert.ok(before);
    assert.equal((await kernel.module('hs_misc'))?.refcnt, 2);

    await settle(clock, kernel.unbind(MISC));

    const device = await kernel.device(MISC);
    assert.equal(device?.driver, null);
    assert.deepEqual(device?.nodes, []);
    const holders = await kernel.census(['240:0']);
    assert.deepEqual(
      holders.map((h) => [h.comm, h.files]),
      [
        ['app-a', [{ fd: 3, path: '/dev/hsmisc0', deleted: true, rdev: '240:0', ino: before.ino }]],
        ['app-b', [{ fd: 3, path: '/dev/hsmisc0', deleted: true, rdev: '240:0', ino: before.ino }]],
      ],
    );
    assert.equal((await kernel.module('hs_misc'))?.refcnt, 2, 'zombies still pin the driver module');
  });

  it('refuses the unload with EBUSY while a zombie is open, and unloads after its close', async () => {
    const { kernel, clock } = boot(miscScenario([ignoring('app-a', ['/dev/hsmisc0'])]));
    const pid = (await kernel.snapshot()).processes[0]!.pid;
    await settle(clock, kernel.unbind(MISC));

    await assert.rejects(settle(clock, kernel.unload(['hs_misc'])), rejectsWith('EBUSY', /Module hs_misc is in use/));
    assert.ok(await kernel.module('hs_misc'), 'nothing was unloaded');

    await kernel.closeFile(pid, 3);
    await settle(clock, kernel.unload(['hs_misc']));
    assert.equal(await kernel.module('hs_misc'), null);

    const log = await kernel.actionLog();
    const refused = only(log, 'unload-refused', { module: 'hs_misc' });
    const close = only(log, 'close', { pid });
    const unload = only(log, 'unload', { module: 'hs_misc' });
    assert.ok(refused.seq < close.seq && close.seq < unload.seq, 'refused, then the last zombie closed, then unloaded');
    assert.equal(refused.errno, 'EBUSY');
  });

  it('unloading a driver module first unbinds its still-bound devices (driver_unregister)', async () => {
    const { kernel, clock } = boot(miscScenario([]));
    await settle(clock, kernel.unload(['hs_misc']));
    const log = await kernel.actionLog();
    const seqs = ['unload-start', 'unbind-start', 'unbind-done', 'unload'].map((k) => entries(log, k as never)[0]?.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => (a ?? -1) - (b ?? -1)),
    );
    assert.ok(seqs.every((s) => s !== undefined));
    assert.equal((await kernel.device(MISC))?.driver, null);
  });

  it('recreates the node at bind with the same path and rdev and a new inode each time', async () => {
    const { kernel, clock } = boot(miscScenario([]));
    const inodes = [(await kernel.device(MISC))!.nodes[0]!.ino];
    for (let i = 0; i < 3; i++) {
      await settle(clock, kernel.unbind(MISC));
      await settle(clock, kernel.bind(MISC, 'hs_misc'));
      const [node] = (await kernel.device(MISC))!.nodes;
      assert.equal(node?.path, '/dev/hsmisc0');
      assert.equal(node?.rdev, '240:0');
      inodes.push(node!.ino);
    }
    assert.equal(new Set(inodes).size, inodes.length, `inodes never reused: ${inodes.join(' ')}`);
    assert.deepEqual(
      inodes,
      [...inodes].sort((a, b) => a - b),
      'monotonic',
    );
  });

  it('refuses bind and unbind the way sysfs does', async () => {
    const { kernel, clock } = boot(miscScenario([]));
    await assert.rejects(kernel.bind(MISC, 'hs_misc'), rejectsWith('EBUSY', /already bound/));
    await assert.rejects(kernel.bind({ bus: 'platform', id: 'nope' }, 'hs_misc'), rejectsWith('ENOENT'));
    await assert.rejects(kernel.unbind({ bus: 'pci', id: 'hs_misc.0' }), rejectsWith('ENOENT'));
    await assert.rejects(kernel.bind(MISC, 'other'), rejectsWith('ENODEV', /not registered/));
    await settle(clock, kernel.unload(['hs_misc']));
    await assert.rejects(kernel.unbind(MISC), rejectsWith('ENODEV', /not bound/));
    await assert.rejects(kernel.bind(MISC, 'hs_misc'), rejectsWith('ENODEV', /not registered/));
  });

  it('finds devices by bus and driver, with their nodes', async () => {
    const { kernel, clock } = boot(miscScenario([]));
    const found = await kernel.findDevices({ bus: 'platform', driver: 'hs_misc' });
    assert.equal(found.length, 1);
    assert.equal(found[0]?.nodes[0]?.rdev, '240:0');
    await settle(clock, kernel.unbind(MISC));
    assert.deepEqual(await kernel.findDevices({ bus: 'platform', driver: 'hs_misc' }), []);
  });
});

describe('sim kernel, revoke scheme, subsystem-owned fops (fenced driver)', () => {
  it('unloads the driver module with zombies open; the zombies pin the core module instead', async () => {
    const { kernel, clock } = boot(
      rdmaScenario([
        ignoring('rdma-a', ['/dev/infiniband/uverbs0']),
        ignoring('rdma-b', [{ path: '/dev/infiniband/uverbs0', mmap: true }]),
      ]),
    );
    assert.equal((await kernel.module('hs_rdma'))?.refcnt, 0, 'files pin the subsystem, not the driver');
    assert.equal((await kernel.module('hs_ib_core'))?.refcnt, 3, 'hs_rdma + two open files');
    assert.deepEqual((await kernel.module('hs_ib_core'))?.holders, ['hs_rdma']);

    await settle(clock, kernel.unbind(RDMA));
    const zombies = await kernel.census(['231:192']);
    assert.equal(zombies.length, 2);
    assert.ok(zombies.every((h) => h.files.every((f) => f.deleted)));
    assert.equal(zombies[1]?.mappings[0]?.deleted, true, 'the mapping is a zombie too');

    await settle(clock, kernel.unload(['hs_rdma']));
    assert.equal(await kernel.module('hs_rdma'), null, 'driver unloaded with zombies open');
    const core = await kernel.module('hs_ib_core');
    assert.equal(core?.refcnt, 2, 'core stays, pinned by the zombies (modprobe -r left it)');
    assert.deepEqual(core?.holders, []);
    await assert.rejects(settle(clock, kernel.unload(['hs_ib_core'])), rejectsWith('EBUSY'));
    assert.equal((await kernel.census(['231:192'])).length, 2, 'zombies still visible');
  });

  it('zombie calls fail with the errno the device is declared with', async () => {
    const { kernel, clock } = boot(rdmaScenario([ignoring('rdma-a', ['/dev/infiniband/uverbs0'])]));
    await settle(clock, kernel.unbind(RDMA));
    const log = await kernel.actionLog();
    assert.equal(only(log, 'zombie').errno, 'EIO');
    assert.equal(only(log, 'notify').errno, 'EIO');
  });
});
