import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KernelActionError } from '../src/kernel-action.error.js';
import { showDependsModules } from '../src/linux/modinfo.parser.js';
import { fixtureAdapter } from './fixtures/linux/linux.fixtures.js';

const rejectsWith = (code: string, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof KernelActionError, `not a KernelActionError: ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

describe('linux adapter, module actions through (fake) kmod tools', () => {
  let dir: string;
  let log: string;
  const kernel = fixtureAdapter();
  const commands = () =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('modinfo'));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotswap-kmod-'));
    log = join(dir, 'kmod.log');
    process.env.FAKE_KMOD_LOG = log; // read by the fake scripts only
  });
  beforeEach(() => writeFileSync(log, ''));
  after(() => {
    delete process.env.FAKE_KMOD_LOG;
    rmSync(dir, { recursive: true, force: true });
  });

  it('unloads a stack with one modprobe -r, top first', async () => {
    await kernel.unload(['mlx5_ib', 'mlx5-core']);
    assert.deepEqual(commands(), ['modprobe -r mlx5_ib mlx5_core']);
  });

  it('maps "in use" to EBUSY and "builtin" to EINVAL, with the tool output in the message', async () => {
    await assert.rejects(
      kernel.unload(['hs_misc']),
      rejectsWith('EBUSY', /unload hs_misc failed \(exit 1\): modprobe: FATAL: Module hs_misc is in use/),
    );
    await assert.rejects(kernel.unload(['vt']), rejectsWith('EINVAL', /is builtin/));
  });

  it('loads by name with modprobe and parameters; an unknown module is ENOENT', async () => {
    await kernel.load({ module: 'hs_misc', params: ['fence=1', 'greeting="hi there"'] });
    assert.deepEqual(commands(), ['modprobe hs_misc fence=1 greeting="hi there"']);
    await assert.rejects(kernel.load({ module: 'nosuch' }), rejectsWith('ENOENT', /Module nosuch not found/));
  });

  it('maps modprobe failures by what it prints', async () => {
    await assert.rejects(
      kernel.load({ module: 'nodev' }),
      rejectsWith('ENODEV', /could not insert 'nodev': No such device/),
    );
    await assert.rejects(kernel.load({ module: 'broken' }), rejectsWith('EIO', /Exec format error/));
    await assert.rejects(kernel.showDepends('nosuch'), rejectsWith('ENOENT', /not found in directory/));
    assert.deepEqual(await kernel.showDepends('mlx5_ib'), [
      'insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/infiniband/core/ib_core.ko ',
      'insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/infiniband/hw/mlx5/mlx5_ib.ko ',
    ]);
  });

  it('names the dependencies modprobe -r may take along from --show-depends; null for a module modprobe does not know', async () => {
    assert.deepEqual(await kernel.modprobeDependencies('mlx5_ib'), ['ib_core']);
    assert.equal(await kernel.modprobeDependencies('nosuch'), null);
    assert.deepEqual(
      showDependsModules([
        'builtin crc32c',
        'insmod /lib/modules/6.1.0/kernel/lib/libcrc32c.ko ',
        'insmod /lib/modules/6.1.0/kernel/net/ipv4/tcp-bbr.ko.zst  opt=1',
      ]),
      ['libcrc32c', 'tcp_bbr'],
    );
  });

  it('refuses a version that modprobe would not load, with ENOENT and what it would load instead', async () => {
    await assert.rejects(
      kernel.load({ module: 'hs_misc', version: '2.0' }),
      rejectsWith(
        'ENOENT',
        /modprobe hs_misc would load \/lib\/modules\/6.1.0-56-amd64\/updates\/hs_misc.ko \(version 1.0\), not version 2.0/,
      ),
    );
    assert.deepEqual(commands(), [], 'nothing was run');
    await kernel.load({ module: 'hs_misc', version: '1.0' });
    assert.deepEqual(commands(), ['modprobe hs_misc']);
  });

  it('loads a file with insmod after modprobing its missing dependencies only', async () => {
    await kernel.load({ module: 'mlx5_ib', file: '/ko/mlx5_ib.ko', params: ['dc_cnak=1'] });
    assert.deepEqual(commands(), ['modprobe ib_foo', 'insmod /ko/mlx5_ib.ko dc_cnak=1']);
    await assert.rejects(
      kernel.load({ module: 'hs_misc', file: '/ko/exists.ko' }),
      rejectsWith('EEXIST', /could not insert module \/ko\/exists.ko: File exists/),
    );
    await assert.rejects(
      kernel.load({ module: 'hs_misc', file: '/ko/mlx5_ib.ko' }),
      rejectsWith('EINVAL', /\/ko\/mlx5_ib.ko is module mlx5_ib, not hs_misc/),
    );
  });

  it('resolves targets by name (for the running release) and by file', async () => {
    assert.deepEqual(await kernel.resolveTarget({ module: 'hs_misc' }), {
      module: 'hs_misc',
      file: '/lib/modules/6.1.0-56-amd64/updates/hs_misc.ko',
      version: '1.0',
      srcversion: '7E57ED7E57ED7E57ED7E57E',
    });
    assert.deepEqual(await kernel.resolveTarget({ module: 'hs_misc', file: '/ko/hs_misc-2.0.ko' }), {
      module: 'hs_misc',
      file: '/ko/hs_misc-2.0.ko',
      version: '2.0',
      srcversion: '5EC0DDEADBEEF5EC0DDEADB',
    });
    await assert.rejects(kernel.resolveTarget({ module: 'x', file: '/ko/x.ko' }), rejectsWith('ENOENT', /not found/));
  });

  it('checks vermagic against the running release', async () => {
    assert.deepEqual(await kernel.vermagicOk('/ko/hs_misc-2.0.ko'), {
      ok: true,
      vermagic: '6.1.0-56-amd64 SMP preempt mod_unload modversions',
      release: '6.1.0-56-amd64',
    });
    assert.equal((await kernel.vermagicOk('/ko/old.ko'))?.ok, false);
    assert.equal(await kernel.vermagicOk('/ko/missing.ko'), null);
  });

  it('says so when a tool is not installed (EIO, not "module not found")', async () => {
    const bare = fixtureAdapter({ commands: { modprobe: '/nonexistent/modprobe' } });
    await assert.rejects(bare.unload(['mlx5_ib']), rejectsWith('EIO', /is not installed/));
  });

  it('refuses actions once closed', async () => {
    const closing = fixtureAdapter();
    await closing.close();
    await closing.close();
    await assert.rejects(closing.unload(['mlx5_ib']), rejectsWith('EIO', /closed/));
  });
});
