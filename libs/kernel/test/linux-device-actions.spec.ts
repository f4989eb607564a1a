import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KernelActionError } from '../src/kernel-action.error.js';
import { LinuxKernelAdapter } from '../src/linux/linux.adapter.js';
import { makeTempSysfs } from './fixtures/linux/temp-sysfs.js';

const rejectsWith = (code: string, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof KernelActionError, `not a KernelActionError: ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

describe('linux adapter, sysfs writes by a dd child', () => {
  let root: string;
  let sys: string;
  let kernel: LinuxKernelAdapter;
  const FOOD = { bus: 'platform', id: 'food.0' };
  const FREE = { bus: 'platform', id: 'free.0' };
  const read = (...path: string[]) => readFileSync(join(sys, ...path), 'utf8');

  before(() => {
    ({ root, sys } = makeTempSysfs());
    kernel = new LinuxKernelAdapter({ roots: { sys, proc: '/proc', dev: join(root, 'dev') } });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("unbind writes the bus id to the bound driver's unbind, in one write", async () => {
    await kernel.unbind(FOOD);
    assert.equal(read('bus/platform/drivers/food/unbind'), 'food.0');
    assert.deepEqual(kernel.liveActions(), []);
  });

  it("bind writes the bus id to the named driver's bind; probe to drivers_probe; driver_override", async () => {
    await kernel.bind(FREE, 'other');
    assert.equal(read('bus/platform/drivers/other/bind'), 'free.0');
    await kernel.probe(FREE);
    assert.equal(read('bus/platform/drivers_probe'), 'free.0');
    await kernel.setDriverOverride(FREE, 'vfio-platform');
    assert.equal(read('devices/platform/free.0/driver_override'), 'vfio-platform');
    assert.equal(await kernel.driverOverride(FREE), 'vfio-platform');
    await assert.rejects(
      kernel.bind(FREE, 'other'),
      rejectsWith('ENODEV', /free.0 has driver_override=vfio-platform: only vfio-platform may bind it/),
    );
    writeFileSync(join(sys, 'devices/platform/free.0/driver_override'), ''); // as the kernel shows a cleared one
  });

  it('refuses what the driver core would refuse, before writing', async () => {
    await assert.rejects(kernel.unbind(FREE), rejectsWith('ENODEV', /free.0 is not bound to a driver/));
    await assert.rejects(kernel.bind(FOOD, 'other'), rejectsWith('EBUSY', /already bound to food/));
    await assert.rejects(
      kernel.bind(FREE, 'nosuch'),
      rejectsWith('ENODEV', /driver nosuch is not registered on bus platform/),
    );
    await assert.rejects(kernel.unbind({ bus: 'platform', id: 'gone.0' }), rejectsWith('ENOENT', /no device gone.0/));
    await assert.rejects(kernel.probe(FOOD), rejectsWith('EBUSY', /already bound/));
  });

  it('maps a failed write by its errno text, and never creates a missing sysfs file', async () => {
    const unbind = join(sys, 'bus/platform/drivers/food/unbind');
    unlinkSync(unbind);
    await assert.rejects(
      kernel.unbind(FOOD),
      rejectsWith('ENOENT', /unbind platform food.0 from food failed \(exit 1\): ENOENT: no such file or directory/),
    );
    assert.equal(existsSync(unbind), false, 'the write did not create the file');
    mkdirSync(unbind);
    await assert.rejects(kernel.unbind(FOOD), rejectsWith('EIO', /EISDIR/));
    rmSync(unbind, { recursive: true });
  });

  it("reports the kernel's errno when the write itself fails (here ENOSPC from /dev/full: EIO)", async () => {
    mkdirSync(join(sys, 'bus/platform/drivers/fullbind'));
    symlinkSync('/dev/full', join(sys, 'bus/platform/drivers/fullbind/bind'));
    await assert.rejects(kernel.bind(FREE, 'fullbind'), rejectsWith('EIO', /No space left on device/));
  });
});
