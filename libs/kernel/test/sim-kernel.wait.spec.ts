import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelActionError } from '../src/kernel-action.error.js';
import { boot, entries, ignoring, only, settle, track, VFIO, vfioScenario } from './sim.fixtures.js';

const code = (c: string) => (err: unknown) => err instanceof KernelActionError && err.code === c;

describe('sim kernel, wait scheme', () => {
  it('keeps the unbind pending until the last close, resolves right after it, and not before', async () => {
    const { kernel, clock } = boot(
      vfioScenario([ignoring('qemu-a', ['/dev/vfio/12']), ignoring('qemu-b', ['/dev/vfio/12'])]),
    );
    const [a, b] = (await kernel.snapshot()).processes.map((p) => p.pid) as [number, number];
    const unbind = track(kernel.unbind(VFIO));

    await clock.advance(5_000);
    assert.equal(unbind.state, 'pending', 'still blocked after 5 s');
    const device = await kernel.device(VFIO);
    assert.equal(device?.driver, 'hs_vfio', 'still bound while remove() waits');
    assert.equal(device?.nodes.length, 1);

    await kernel.closeFile(a, 3);
    await clock.advance(1_000);
    assert.equal(unbind.state, 'pending', 'one file is still open');

    await kernel.closeFile(b, 3);
    await clock.advance(0);
    assert.equal(unbind.state, 'fulfilled', 'resolves right after the last close');
    const log = await kernel.actionLog();
    const lastClose = only(log, 'close', { pid: b });
    const done = only(log, 'unbind-done');
    assert.ok(lastClose.seq < done.seq);
    assert.equal(done.mono, lastClose.mono, 'no delay after the last close');
    assert.deepEqual((await kernel.device(VFIO))?.nodes, []);
  });

  it('asks holders to release when the unbind starts, refuses bind and new opens while it is pending', async () => {
    const { kernel, clock } = boot(vfioScenario([ignoring('qemu', ['/dev/vfio/12']), ignoring('other', [])]));
    const [qemu, other] = (await kernel.snapshot()).processes.map((p) => p.pid) as [number, number];
    const unbind = track(kernel.unbind(VFIO));
    await clock.advance(100);

    const log = await kernel.actionLog();
    const notify = only(log, 'notify', { pid: qemu });
    assert.ok(only(log, 'unbind-start').seq < notify.seq);
    assert.match(notify.detail ?? '', /release-request/);

    await assert.rejects(kernel.bind(VFIO, 'hs_vfio'), code('EBUSY'));
    await assert.rejects(kernel.openFile(other, '/dev/vfio/12'), code('ENODEV'));
    assert.equal((await kernel.snapshot()).devices[0]?.locked, true);

    await kernel.signal(qemu, 'SIGKILL'); // the blocked-unbind policy "signal"
    await clock.advance(0);
    assert.equal(unbind.state, 'fulfilled');
    await assert.rejects(kernel.openFile(other, '/dev/vfio/12'), code('ENOENT'));
  });

  it('a holder that closes after 3 s unblocks the unbind at 3 s, then reopens the new node', async () => {
    const { kernel, clock } = boot(
      vfioScenario([
        {
          comm: 'qemu',
          unit: 'vm1.scope',
          opens: [{ path: '/dev/vfio/12', mmap: true }],
          onError: { action: 'reopen', closeAfterMs: 3000, reopenDelayMs: 3000, jitterMs: 0, retryMs: 10 },
        },
      ]),
    );
    const unbind = track(kernel.unbind(VFIO));
    await clock.advance(2_999);
    assert.equal(unbind.state, 'pending');
    await clock.advance(1);
    assert.equal(unbind.state, 'fulfilled');

    await settle(clock, kernel.unload(['hs_vfio']));
    await settle(clock, kernel.load({ module: 'hs_vfio' }));
    await clock.advance(20);
    const [holder] = await kernel.census(['243:12']);
    const node = (await kernel.device(VFIO))?.nodes[0];
    assert.deepEqual(
      holder?.files.map((f) => [f.ino, f.deleted]),
      [[node?.ino, false]],
    );
    assert.deepEqual(
      holder?.mappings.map((m) => m.ino),
      [node?.ino],
    );
    assert.equal((await kernel.module('hs_vfio'))?.version, '2.0');
  });

  it('a second unbind queues on the device lock and then finds the device unbound', async () => {
    const { kernel, clock } = boot(vfioScenario([ignoring('qemu', ['/dev/vfio/12'])]));
    const pid = (await kernel.snapshot()).processes[0]!.pid;
    const first = track(kernel.unbind(VFIO));
    const second = track(kernel.unbind(VFIO));
    await clock.advance(1000);
    assert.equal(second.state, 'pending');
    await kernel.closeFile(pid, 3);
    await clock.advance(0);
    assert.equal(first.state, 'fulfilled');
    assert.equal(second.state, 'rejected');
    assert.ok(code('ENODEV')(second.error));
    assert.equal(entries(await kernel.actionLog(), 'unbind-done').length, 1);
  });

  it('unloading the driver module while bound blocks in driver_unregister until the files close', async () => {
    const { kernel, clock } = boot(vfioScenario([ignoring('qemu', [])]));
    const pid = (await kernel.snapshot()).processes[0]!.pid;
    // Opened by the driver's own fops: the module is pinned, so unload is refused outright.
    await kernel.openFile(pid, '/dev/vfio/12');
    await assert.rejects(settle(clock, kernel.unload(['hs_vfio'])), code('EBUSY'));
    await kernel.closeFile(pid, 3);
    await settle(clock, kernel.unload(['hs_vfio']));
    assert.equal(await kernel.module('hs_vfio'), null);
  });
});
