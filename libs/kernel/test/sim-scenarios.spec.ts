import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FakeClock } from '../src/sim/fake.clock.js';
import { SimKernel } from '../src/sim/sim-kernel.js';
import { parseScenario } from '../src/sim/sim-scenario.schema.js';
import { entries, only, settle, track } from './sim.fixtures.js';

function bootFile(name: string) {
  const text = readFileSync(new URL(`../../scenarios/${name}`, import.meta.url), 'utf8');
  const clock = new FakeClock();
  return { kernel: new SimKernel(parseScenario(text), { clock }), clock };
}

/** Each holder's first open of the new node, in ms after the unbind returned (or the node vanished). */
async function recoveries(kernel: SimKernel, from: number) {
  const log = await kernel.actionLog();
  const bind = only(log, 'bind');
  return Object.fromEntries(
    entries(log, 'open')
      .filter((e) => e.ino === bind.ino)
      .map((e) => [e.comm, e.mono - from]),
  );
}

describe('example scenarios (runbook deadlines: unbind 1 s, zombie close 5 s)', () => {
  it('misc-driver-owned: unload waits for both zombies; apps reopen at ~800 and ~1200 ms', async () => {
    const { kernel, clock } = bootFile('misc-driver-owned.yaml');
    const device = { bus: 'platform', id: 'hs_misc.0' };
    await settle(clock, kernel.unbind(device));
    const unbound = only(await kernel.actionLog(), 'unbind-done').mono;
    assert.equal((await kernel.census(['240:0'])).length, 2, 'two zombies for the census to see');
    await assert.rejects(settle(clock, kernel.unload(['hs_misc'])), /in use/);
    await clock.advance(400);
    assert.equal((await kernel.module('hs_misc'))?.refcnt, 0, 'both apps closed their zombie within 400 ms');
    await settle(clock, kernel.unload(['hs_misc']));
    await settle(clock, kernel.load({ module: 'hs_misc' }));
    assert.equal((await kernel.module('hs_misc'))?.version, '2.0');
    await clock.advance(2000);
    const times = await recoveries(kernel, unbound);
    assert.ok(times['app-fast']! >= 600 && times['app-fast']! <= 1010, `app-fast ${times['app-fast']}`);
    assert.ok(times['app-slow']! >= 1000 && times['app-slow']! <= 1410, `app-slow ${times['app-slow']}`);
  });

  it('rdma-subsystem: the driver unloads while rdma-slow still holds a zombie; core stays pinned', async () => {
    const { kernel, clock } = bootFile('rdma-subsystem.yaml');
    await settle(clock, kernel.unbind({ bus: 'pci', id: '0000:03:00.0' }));
    await clock.advance(100);
    await settle(clock, kernel.unload(['hs_rdma']));
    const zombies = await kernel.census(['231:192']);
    assert.deepEqual(
      zombies.map((h) => [h.comm, h.files.map((f) => f.deleted)]),
      [['rdma-slow', [true]]],
    );
    assert.equal((await kernel.module('hs_ib_core'))?.refcnt, 1);
    await settle(clock, kernel.load({ module: 'hs_rdma' }));
    await clock.advance(3000);
    const holders = await kernel.census(['231:192']);
    assert.ok(holders.every((h) => h.files.every((f) => !f.deleted)));
    assert.deepEqual(holders.map((h) => h.comm).sort(), ['rdma-fast', 'rdma-slow']);
    assert.equal(holders.find((h) => h.comm === 'rdma-fast')?.mappings.length, 1, 'mapped again');
  });

  it('vfio-wait: the unbind blocks past the 1 s deadline and returns when qemu closes at 3 s', async () => {
    const { kernel, clock } = bootFile('vfio-wait.yaml');
    const unbind = track(kernel.unbind({ bus: 'pci', id: '0000:04:00.0' }));
    await clock.advance(1000);
    assert.equal(unbind.state, 'pending');
    await clock.advance(2000);
    assert.equal(unbind.state, 'fulfilled');
    await settle(clock, kernel.unload(['hs_vfio']));
    await settle(clock, kernel.load({ module: 'hs_vfio' }));
    await clock.advance(500);
    const [qemu] = await kernel.census(['243:12']);
    assert.equal(qemu?.comm, 'qemu-vm1');
    assert.equal(qemu?.files[0]?.deleted, false);
  });
});
