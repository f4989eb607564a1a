import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelActionError } from '../src/kernel-action.error.js';
import {
  validateBusId,
  validateBusName,
  validateDriverName,
  validateModuleFile,
  validateModuleName,
  validateModuleParam,
} from '../src/linux/kernel-name.validator.js';
import { fixtureAdapter } from './fixtures/linux/linux.fixtures.js';

const einval = (why: RegExp) => (err: unknown) => {
  assert.ok(err instanceof KernelActionError, `not a KernelActionError: ${String(err)}`);
  assert.equal(err.code, 'EINVAL');
  assert.match(err.message, why);
  return true;
};

describe('linux adapter, validation of what reaches a path or a command line', () => {
  it('accepts real names: PCI, virtio, platform, USB ids; drivers with dashes and digits', () => {
    for (const id of ['0000:03:00.0', 'virtio1', 'hs_misc.0', '1-1:1.0', 'PNP0501:00', 'serial8250'])
      assert.equal(validateBusId(id), id);
    for (const d of ['mlx5_core', 'virtio-pci', '8250_lpss', 'vfio-pci']) assert.equal(validateDriverName(d), d);
    assert.equal(validateBusName('serial-base'), 'serial-base');
    assert.equal(validateModuleName('virtio-console'), 'virtio-console');
    assert.equal(validateModuleParam('greeting="hot swap"'), 'greeting="hot swap"');
    assert.equal(validateModuleParam('debug'), 'debug');
    assert.equal(
      validateModuleFile('/lib/modules/6.1.0/updates/hs_misc.ko.zst'),
      '/lib/modules/6.1.0/updates/hs_misc.ko.zst',
    );
  });

  it('refuses traversal, separators, whitespace, control characters and options, saying which value and why', () => {
    assert.throws(
      () => validateBusId('../../../kernel'),
      einval(/invalid bus id "..\/..\/..\/kernel": it contains '\/'/),
    );
    assert.throws(() => validateBusId('..'), einval(/relative path component/));
    assert.throws(() => validateBusId('a..b'), einval(/contains '\.\.'/));
    assert.throws(
      () => validateDriverName('mlx5 core'),
      einval(/invalid driver name "mlx5 core": it contains whitespace/),
    );
    assert.throws(() => validateDriverName('x\ny'), einval(/whitespace/));
    assert.throws(() => validateDriverName('x\u0007'), einval(/control character/));
    assert.throws(() => validateDriverName('pcïe'), einval(/printable ASCII/));
    assert.throws(() => validateModuleName('-r'), einval(/invalid module name "-r": it starts with '-'/));
    assert.throws(() => validateModuleName('mlx5.ko'), einval(/only letters, digits/));
    assert.throws(() => validateModuleName(''), einval(/empty/));
    assert.throws(() => validateModuleName('m'.repeat(56)), einval(/longer than 55/));
    assert.throws(() => validateBusName('pci:x'), einval(/bus names have only/));
    assert.throws(() => validateModuleParam('--force'), einval(/not a parameter name/));
    assert.throws(() => validateModuleParam('a=b c'), einval(/not quoted/));
    assert.throws(() => validateModuleParam('a=b\nc'), einval(/control character/));
    assert.throws(() => validateModuleFile('hs_misc.ko'), einval(/not an absolute path/));
    assert.throws(() => validateModuleFile('/lib/modules/../../etc/x.ko'), einval(/'\.\.' component/));
    assert.throws(() => validateModuleFile('/tmp/x.sh'), einval(/does not end in \.ko/));
  });

  it('the adapter refuses before touching sysfs or running anything', async () => {
    const kernel = fixtureAdapter({ commands: { dd: '/nonexistent/dd', modprobe: '/nonexistent/modprobe' } });
    await assert.rejects(kernel.unbind({ bus: 'pci', id: '../../module/x' }), einval(/bus id/));
    await assert.rejects(kernel.bind({ bus: 'pci', id: '0000:03:00.0' }, '../mlx5_core'), einval(/driver name/));
    await assert.rejects(kernel.unload(['mlx5_ib', '-f']), einval(/module name "-f"/));
    await assert.rejects(kernel.load({ module: 'hs_misc', params: ['x=$(reboot) now'] }), einval(/module parameter/));
    await assert.rejects(kernel.load({ module: 'hs_misc', file: '/ko/../x.ko' }), einval(/module file/));
    await assert.rejects(kernel.device({ bus: '..', id: 'x' }), einval(/bus name/));
    await assert.rejects(kernel.findDevices({ bus: 'pci', driver: 'a/b' }), einval(/driver name/));
    await assert.rejects(kernel.module('../../etc'), einval(/module name/));
    await assert.rejects(kernel.signal(1, 'SIGKILL'), einval(/pid/));
    await assert.rejects(kernel.signal(-5, 'SIGKILL'), einval(/pid/));
    assert.deepEqual(kernel.liveActions(), []);
  });
});
