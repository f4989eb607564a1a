import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fixtureAdapter, HOST } from './fixtures/linux/linux.fixtures.js';

const ino = (path: string) => statSync(`${HOST}/dev/${path}`).ino;
const PCI = { bus: 'pci', id: '0000:03:00.0' };
const VIRTIO = { bus: 'virtio', id: 'virtio1' };
const MISC = { bus: 'platform', id: 'hs_misc.0' };

describe('linux adapter, sysfs devices on a captured tree', () => {
  const kernel = fixtureAdapter();

  it('finds a PCI device bound to mlx5_core, with ids and its uverbs node resolved via DEVNAME', async () => {
    const devices = await kernel.findDevices({ bus: 'pci', driver: 'mlx5_core' });
    assert.deepEqual(devices, [
      {
        bus: 'pci',
        id: '0000:03:00.0',
        driver: 'mlx5_core',
        vendor: '0x15b3',
        device: '0x101b',
        nodes: [{ path: `${HOST}/dev/infiniband/uverbs0`, rdev: '231:192', ino: ino('infiniband/uverbs0') }],
      },
    ]);
  });

  it('filters by vendor and device ids, case-insensitively', async () => {
    assert.equal((await kernel.findDevices({ bus: 'pci', driver: 'mlx5_core', vendor: '0x15B3' })).length, 1);
    assert.equal((await kernel.findDevices({ bus: 'pci', driver: 'mlx5_core', device: '0x1017' })).length, 0);
  });

  it('gives a virtio-serial device both of its port nodes (one by DEVNAME, one by scanning dev)', async () => {
    const device = await kernel.device(VIRTIO);
    assert.equal(device?.driver, 'virtio_console');
    assert.deepEqual(device?.nodes, [
      { path: `${HOST}/dev/vport1p1`, rdev: '243:1', ino: ino('vport1p1') },
      { path: `${HOST}/dev/vport1p2`, rdev: '243:2', ino: ino('vport1p2') },
    ]);
    assert.equal(device?.vendor, '0x1af4');
  });

  it('gives a platform device its misc node; a device without driver has no nodes', async () => {
    assert.deepEqual((await kernel.device(MISC))?.nodes, [
      { path: `${HOST}/dev/hsmisc0`, rdev: '10:123', ino: ino('hsmisc0') },
    ]);
    const unbound = await kernel.device({ bus: 'platform', id: 'hs_misc.1' });
    assert.deepEqual(unbound, { bus: 'platform', id: 'hs_misc.1', driver: null, nodes: [] });
    assert.deepEqual(
      (await kernel.findDevices({ bus: 'platform', driver: 'hs_misc' })).map((d) => d.id),
      ['hs_misc.0'],
      'the driver directory lists only the bound device (its "module" link is not a device)',
    );
  });

  it('answers null for an unknown device and [] for an unknown driver or bus', async () => {
    assert.equal(await kernel.device({ bus: 'pci', id: '0000:99:00.0' }), null);
    assert.deepEqual(await kernel.findDevices({ bus: 'pci', driver: 'nosuch' }), []);
    assert.deepEqual(await kernel.findDevices({ bus: 'nosuchbus', driver: 'mlx5_core' }), []);
  });

  it('reads driver_override ("(null)" is unset) and classifies nodes for the subsystem table', async () => {
    assert.equal(await kernel.driverOverride(PCI), null);
    assert.equal(await kernel.driverOverride({ bus: 'pci', id: '0000:03:00.1' }), 'vfio-pci');
    const [uverbs] = await kernel.nodeSubsystems(PCI);
    assert.equal(uverbs?.sysfsClass, 'infiniband_verbs');
    assert.deepEqual(
      uverbs?.behaviours.map((b) => b.subsystem),
      ['rdma-uverbs-disassociate', 'rdma-uverbs'],
    );
    assert.deepEqual(
      (await kernel.nodeSubsystems(VIRTIO)).map((n) => [n.sysfsClass, n.behaviours[0]?.predictedErrno]),
      [
        ['virtio-ports', 'ENODEV'],
        ['virtio-ports', 'ENODEV'],
      ],
    );
    const vfio = await kernel.nodeSubsystems({ bus: 'pci', id: '0000:03:00.1' });
    assert.deepEqual(
      vfio.map((n) => [n.sysfsClass, n.node.rdev, n.behaviours[0]?.revokeScheme]),
      [['vfio', '242:0', 'wait']],
      'the VFIO group node of the iommu_group counts as a node of the device',
    );
  });
});

describe('linux adapter, modules on a captured tree', () => {
  const kernel = fixtureAdapter();

  it('reads a two-module stack: mlx5_ib holds mlx5_core; refcnt, holders and dependencies', async () => {
    const core = await kernel.module('mlx5_core');
    assert.equal(core?.refcnt, 1);
    assert.deepEqual(core?.holders, ['mlx5_ib']);
    assert.deepEqual(core?.dependsOn, []);
    assert.equal(core?.unloadable, true);
    assert.equal(core?.srcversion, '5F9B46A7C3D1E2F0A1B2C3D');
    assert.deepEqual(core?.params, ['debug_mask=0', 'prof_sel=2']);
    assert.equal(core?.file, null, 'the file modinfo names has another srcversion: not the loaded one');

    const ib = await kernel.module('mlx5_ib');
    assert.equal(ib?.refcnt, 0);
    assert.deepEqual(ib?.holders, []);
    assert.deepEqual(ib?.dependsOn, ['ib_core', 'ib_uverbs', 'mlx5_core']);
  });

  it('reads version, file (srcversion matches) and parameters, leaving out unset strings and quoting spaces', async () => {
    const misc = await kernel.module('hs_misc');
    assert.equal(misc?.version, '1.0');
    assert.equal(misc?.file, '/lib/modules/6.1.0-56-amd64/updates/hs_misc.ko');
    assert.deepEqual(misc?.params, ['fence=Y', 'greeting="hot swap"']);
  });

  it('marks built-in and permanent modules as not unloadable', async () => {
    const vt = await kernel.module('vt');
    assert.equal(vt?.unloadable, false);
    assert.equal(vt?.file, null);
    assert.equal(vt?.refcnt, 0);
    assert.deepEqual(vt?.params, ['default_utf8=1', 'global_cursor_default=Y']);
    const perm = await kernel.module('permmod');
    assert.equal(perm?.unloadable, false);
  });

  it('answers null for a module that is not loaded and accepts "-" for "_"', async () => {
    assert.equal(await kernel.module('nosuch'), null);
    assert.equal((await kernel.module('virtio-console'))?.name, 'virtio_console');
  });

  it('reads the use of several modules at once, as module() does; null when not loaded or built in', async () => {
    const use = await kernel.moduleUse(['mlx5_core', 'ib-core', 'mlx5_ib', 'vt', 'nosuch']);
    assert.deepEqual(use, {
      mlx5_core: { refcnt: 1, holders: ['mlx5_ib'] },
      'ib-core': { refcnt: 2, holders: ['ib_uverbs', 'mlx5_ib'] },
      mlx5_ib: { refcnt: 0, holders: [] },
      vt: null,
      nosuch: null,
    });
    const core = await kernel.module('mlx5_core');
    assert.deepEqual(use.mlx5_core, { refcnt: core?.refcnt, holders: core?.holders });
  });

  it('lists loaded modules from /proc/modules', async () => {
    assert.deepEqual(await kernel.loadedModules(), [
      'hs_misc',
      'ib_core',
      'ib_uverbs',
      'mlx5_core',
      'mlx5_ib',
      'permmod',
      'virtio_console',
    ]);
  });
});

describe('linux adapter, kernel facts on a captured tree', () => {
  const kernel = fixtureAdapter();

  it('reads release, taint, modules_disabled, lockdown and sig_enforce', async () => {
    assert.equal(await kernel.kernelRelease(), '6.1.0-56-amd64');
    const taint = await kernel.taint();
    assert.equal(taint?.value, 12288);
    assert.equal(taint?.flags, 'OE');
    assert.equal(await kernel.modulesDisabled(), false);
    assert.equal(await kernel.lockdown(), 'integrity');
    assert.equal(await kernel.sigEnforce(), true);
  });

  it('lists block devices behind mounts and swap, including an anonymous-dev btrfs through its source', async () => {
    assert.deepEqual(await kernel.mountedDevices(), [
      { rdev: '259:2', mountPoint: '/', fstype: 'ext4', source: '/dev/nvme0n1p2' },
      { rdev: '259:1', mountPoint: '/boot/efi', fstype: 'vfat', source: '/dev/nvme0n1p1' },
      { rdev: '254:16', mountPoint: '/home dir', fstype: 'btrfs', source: '/dev/vdb' },
      { rdev: '254:32', mountPoint: '[swap]', fstype: 'swap', source: '/dev/vdc' },
    ]);
  });

  it('reads kernel log records after a cursor', async () => {
    const since = await kernel.kmsgSince({ seq: 1203 });
    assert.equal(since?.lost, false);
    assert.deepEqual(
      since?.records.map((r) => [r.seq, r.level, r.facility, r.message]),
      [
        [1204, 6, 1, 'hotswap: swap started\\x0a(from the agent)'],
        [1205, 6, 0, 'virtio_console virtio1: port 1 '],
        [1206, 6, 0, 'ready'],
      ],
    );
    assert.deepEqual(await kernel.kmsgCursor(), { seq: 1206 });
    assert.equal((await kernel.kmsgSince({ seq: 1000 }))?.lost, true, 'records 1001..1200 were overwritten');
  });

  it('answers null for every fact whose file is missing', async () => {
    const bare = fixtureAdapter({ roots: { sys: '/nonexistent/sys', proc: '/nonexistent/proc', dev: '/nonexistent' } });
    assert.equal(await bare.kernelRelease(), null);
    assert.equal(await bare.taint(), null);
    assert.equal(await bare.modulesDisabled(), null);
    assert.equal(await bare.lockdown(), null);
    assert.equal(await bare.sigEnforce(), null);
    assert.equal(await bare.mountedDevices(), null);
    assert.equal(await bare.kmsgCursor(), null);
    assert.equal(await bare.vermagicOk('/ko/hs_misc-2.0.ko'), null);
  });
});
