import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KernelActionError } from '../src/kernel-action.error.js';
import type { FakeClock } from '../src/sim/fake.clock.js';
import type { SimKernel } from '../src/sim/sim-kernel.js';
import type { SimScenarioInput } from '../src/sim/sim-scenario.schema.js';
import type { SimSnapshot } from '../src/sim/sim.snapshot.js';
import { boot, miscScenario, rdmaScenario, track, vfioScenario, type Tracked } from './sim.fixtures.js';

/** One host with the three kinds of device, holders of every behaviour, and a few faults. */
function mixedHost(): SimScenarioInput {
  const misc = miscScenario([]);
  const rdma = rdmaScenario([]);
  const vfio = vfioScenario([]);
  const reopen = (delay: number) => ({
    action: 'reopen' as const,
    closeAfterMs: delay / 2,
    reopenDelayMs: delay,
    jitterMs: 50,
    retryMs: 50,
  });
  return {
    host: 'mixed',
    seed: 9,
    timing: { unbindMs: 5, unloadMs: 20, loadMs: 40, probeMs: 20 },
    modules: [...misc.modules!, ...rdma.modules!, ...vfio.modules!],
    moduleFiles: [...misc.moduleFiles!, ...rdma.moduleFiles!, ...vfio.moduleFiles!],
    drivers: [...misc.drivers!, ...rdma.drivers!, ...vfio.drivers!],
    devices: [...misc.devices!, ...rdma.devices!, ...vfio.devices!],
    processes: [
      { comm: 'misc-reopen', unit: 'a.service', opens: ['/dev/hsmisc0'], onError: reopen(300) },
      { comm: 'misc-ignore', opens: [{ path: '/dev/hsmisc0', mmap: true }] },
      {
        comm: 'rdma-restart',
        unit: 'b.service',
        opens: ['/dev/infiniband/uverbs0'],
        onError: { action: 'restart', closeAfterMs: 100, restartDelayMs: 50, retryMs: 50 },
      },
      {
        comm: 'rdma-exit',
        opens: [{ path: '/dev/infiniband/uverbs0', mmap: true }],
        onError: { action: 'exit', closeAfterMs: 200 },
      },
      { comm: 'vfio-reopen', unit: 'c.scope', opens: ['/dev/vfio/12'], onError: reopen(800) },
      { comm: 'idle', opens: [] },
    ],
    faults: [
      { kind: 'load-fails', module: 'hs_rdma', times: 1 },
      { kind: 'probe-fails', bus: 'pci', device: '0000:04:00.0', driverVersion: '2.0', times: 1 },
      { kind: 'unload-fails', module: 'hs_vfio', times: 1 },
    ],
  };
}

const devices = [
  { bus: 'platform', id: 'hs_misc.0', driver: 'hs_misc', node: '/dev/hsmisc0' },
  { bus: 'pci', id: '0000:03:00.0', driver: 'hs_rdma', node: '/dev/infiniband/uverbs0' },
  { bus: 'pci', id: '0000:04:00.0', driver: 'hs_vfio', node: '/dev/vfio/12' },
] as const;
const moduleNames = ['hs_misc', 'hs_core', 'hs_rdma', 'hs_ib_core', 'hs_vfio', 'builtin_x'];

type Op =
  | { kind: 'unbind' | 'bind'; device: number }
  | { kind: 'unload'; modules: string[] }
  | { kind: 'load'; module: string; version: string | undefined }
  | { kind: 'close'; proc: number; fd: number }
  | { kind: 'open'; proc: number; device: number; mmap: boolean }
  | { kind: 'signal'; proc: number; signal: 'SIGTERM' | 'SIGKILL' }
  | { kind: 'swap'; device: number; version: string; zombieWaitMs: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constantFrom('unbind' as const, 'bind' as const), device: fc.nat(2) }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant('unload' as const),
      modules: fc.shuffledSubarray(moduleNames, { minLength: 1, maxLength: 3 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('load' as const),
      module: fc.constantFrom('hs_misc', 'hs_rdma', 'hs_vfio', 'hs_core', 'hs_ib_core'),
      version: fc.option(fc.constantFrom('1.0', '2.0'), { nil: undefined }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('close' as const), proc: fc.nat(9), fd: fc.nat(3) }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('open' as const),
      proc: fc.nat(9),
      device: fc.nat(2),
      mmap: fc.boolean(),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('signal' as const),
      proc: fc.nat(9),
      signal: fc.constantFrom('SIGTERM' as const, 'SIGKILL' as const),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('swap' as const),
      device: fc.nat(2),
      version: fc.constantFrom('1.0', '2.0'),
      zombieWaitMs: fc.integer({ min: 0, max: 500 }),
    }),
    weight: 4,
  },
);

/** What the agent does: unbind, wait for zombies, modprobe -r, modprobe; each step whatever the last gave. */
async function swap(kernel: SimKernel, clock: FakeClock, op: Extract<Op, { kind: 'swap' }>): Promise<void> {
  const ref = devices[op.device]!;
  const steps = [
    () => kernel.unbind(ref),
    () => new Promise<void>((resolve) => clock.setTimer(resolve, op.zombieWaitMs)),
    () => kernel.unload([ref.driver]),
    () => kernel.load({ module: ref.driver, version: op.version }),
  ];
  for (const step of steps) {
    await step().catch((err: unknown) => {
      if (!(err instanceof KernelActionError)) throw err;
    });
  }
}

/** Checks every invariant of one snapshot; `inodes` remembers every inode a node ever had. */
function checkInvariants(snap: SimSnapshot, inodes: Map<number, string>): void {
  const present = new Map(snap.modules.map((m) => [m.name, m]));
  const files = snap.processes.flatMap((p) => [...p.files, ...p.mappings]);
  for (const m of snap.modules) {
    const openFiles = new Set(files.filter((f) => f.fops === m.name).map((f) => f.file)).size;
    assert.equal(m.refcnt, m.holders.length + openFiles, `${m.name}: refcnt = holders + open files pinning it`);
    for (const dep of m.dependsOn) assert.ok(present.has(dep), `${m.name} depends on ${dep}, which is loaded`);
  }
  for (const f of files)
    assert.ok(present.has(f.fops), `a module pinned by an open file (${f.fops}) is never unloaded`);

  const currentNodes = new Set<string>();
  for (const d of snap.devices) {
    const key = `${d.bus}/${d.id}`;
    if (d.driver === null) {
      assert.equal(d.nodes.length, 0, `${key}: unbound, no node`);
      continue;
    }
    assert.equal(d.nodes.length, 1, `${key}: bound, exactly one node`);
    const node = d.nodes[0]!;
    assert.equal(inodes.get(node.ino) ?? key, key, `inode ${node.ino} never reused by another device`);
    inodes.set(node.ino, key);
    currentNodes.add(`${node.rdev}/${node.ino}`);
    const driverModule = devices.find((x) => x.id === d.id)!.driver;
    assert.ok(present.has(driverModule), `${key}: bound to a driver whose module is loaded`);
  }
  for (const f of files) {
    const live = currentNodes.has(`${f.rdev}/${f.ino}`);
    assert.equal(live, !f.deleted, `${f.path} ${f.rdev}/${f.ino}: not deleted iff its node exists`);
  }
  for (const p of snap.processes) for (const f of p.files) assert.ok(f.fd >= 3);
}

async function run(ops: [Op, number][]): Promise<void> {
  const { kernel, clock } = boot(mixedHost());
  const inodes = new Map<number, string>();
  const calls: Tracked<unknown>[] = [];
  checkInvariants(await kernel.snapshot(), inodes);
  for (const [op, waitMs] of ops) {
    const snap = await kernel.snapshot();
    const proc =
      snap.processes.length > 0 ? snap.processes[('proc' in op ? op.proc : 0) % snap.processes.length] : undefined;
    const ref = 'device' in op ? devices[op.device]! : devices[0];
    let call: Promise<unknown> | null = null;
    switch (op.kind) {
      case 'unbind':
        call = kernel.unbind(ref);
        break;
      case 'bind':
        call = kernel.bind(ref, ref.driver);
        break;
      case 'unload':
        call = kernel.unload(op.modules);
        break;
      case 'load':
        call = kernel.load(op.version ? { module: op.module, version: op.version } : { module: op.module });
        break;
      case 'close': {
        const fd = proc?.files[op.fd % Math.max(1, proc.files.length)]?.fd;
        if (proc && fd !== undefined) call = kernel.closeFile(proc.pid, fd);
        break;
      }
      case 'open':
        if (proc) call = kernel.openFile(proc.pid, ref.node, op.mmap);
        break;
      case 'signal':
        if (proc) call = kernel.signal(proc.pid, op.signal);
        break;
      case 'swap':
        call = swap(kernel, clock, op);
        break;
    }
    if (call) calls.push(track(call));
    await clock.advance(waitMs);
    checkInvariants(await kernel.snapshot(), inodes);
  }
  await clock.advance(10_000);
  checkInvariants(await kernel.snapshot(), inodes);
  for (const c of calls) {
    if (c.state === 'rejected')
      assert.ok(c.error instanceof KernelActionError, `only kernel refusals: ${String(c.error)}`);
  }
  assert.deepEqual(kernel.internalErrors, []);
  await kernel.close();
}

describe('sim kernel invariants (property)', () => {
  it('random sequences of kernel and process actions never break an invariant', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(opArb, fc.integer({ min: 0, max: 600 })), { maxLength: 40 }), run),
      { numRuns: 300 },
    );
  });
});
