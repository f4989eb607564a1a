import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { BoundDevice, ClassifiedNode, Holder, LoadedModule } from '@hotswap/kernel';
import type { SubsystemOverride } from '@hotswap/runbook';
import { checkPredictions, inferFopsOwner, openFilesOf, predictSwap, type PredictionInput } from '../src/index.js';

const node = (minor: number, ino: number, path = `/dev/hs${minor}`) => ({ path, rdev: `240:${minor}`, ino });
const device = (id: string, minor: number, ino: number): BoundDevice => ({
  bus: 'pci',
  id,
  driver: 'hs_drv',
  nodes: [node(minor, ino)],
});
const mod = (name: string, refcnt: number, holders: string[] = []): LoadedModule => ({
  name,
  version: '1.0',
  srcversion: null,
  refcnt,
  holders,
  dependsOn: [],
  unloadable: true,
  file: null,
  params: [],
});
const holder = (pid: number, fds: { minor: number; ino: number }[], maps: { minor: number; ino: number }[] = []) =>
  ({
    pid,
    comm: `app${pid}`,
    unit: null,
    files: fds.map((f, i) => ({ fd: 3 + i, deleted: false, ...node(f.minor, f.ino) })),
    mappings: maps.map((m) => ({ deleted: false, ...node(m.minor, m.ino) })),
  }) satisfies Holder;
const classes = (cls: string | null, minor = 0): ClassifiedNode[] => [
  { path: `/dev/hs${minor}`, rdev: `240:${minor}`, sysfsClass: cls },
];

const input = (over: Partial<PredictionInput>): PredictionInput => ({
  modules: ['hs_drv'],
  driver: 'hs_drv',
  devices: [device('0000:04:00.0', 0, 10)],
  nodeClasses: [classes('vfio')],
  loaded: [mod('hs_drv', 0)],
  holders: [],
  ...over,
});

describe('subsystem predictions (table, host, runbook)', () => {
  it('checks an unbind against what the census saw after it: a wait that ended in time is no mismatch', () => {
    const [blocks] = predictSwap(
      input({ holders: [holder(4242, [{ minor: 0, ino: 10 }])], loaded: [mod('hs_drv', 1)] }),
    ).predictions;
    const seen = (u: Partial<{ blocked: boolean; returned: boolean; zombiesAfter: number | null }>) => ({
      unbinds: [{ device: 'pci/0000:04:00.0', blocked: false, returned: true, heldBefore: 1, zombiesAfter: 0, ...u }],
      zombieFds: 0,
      unloadRefcnt: 0,
      zombiesWhenFree: 0,
    });
    const check = (u: Parameters<typeof seen>[0]) => checkPredictions([blocks!], seen(u))[0]!;
    assert.deepEqual([check({}).observed, check({}).held], ['blocks', true], 'QEMU let go before the deadline');
    assert.deepEqual([check({ blocked: true }).observed, check({ blocked: true }).held], ['blocks', true]);
    const revoked = check({ zombiesAfter: 1 });
    assert.deepEqual([revoked.observed, revoked.held], ['returns', false]);
    assert.equal(revoked.note, 'mismatch: the unbind returned with 1 file(s) still open on the device');
    assert.equal(check({ returned: false }).held, null);
    assert.equal(check({ zombiesAfter: null }).held, null);
  });

  it('checks the unload by the zombies still open when the stack was found free, never by those closed before', () => {
    const holders = [holder(1, [{ minor: 0, ino: 10 }])];
    const waits = predictSwap(
      input({ nodeClasses: [classes('misc')], loaded: [mod('hs_drv', 1)], holders }),
    ).predictions.find((x) => x.kind === 'unload')!;
    assert.equal(waits.expected, 'waits');
    const seen = (unloadRefcnt: number, zombiesWhenFree: number | null) => ({
      unbinds: [],
      zombieFds: 1,
      unloadRefcnt,
      zombiesWhenFree,
    });
    const check = (refcnt: number, open: number | null) => checkPredictions([waits], seen(refcnt, open))[0]!;
    assert.deepEqual([check(1, null).observed, check(1, null).held], ['waits', true]);
    assert.deepEqual([check(0, 0).observed, check(0, 0).held], [null, null], 'closed between census and check');
    assert.deepEqual([check(0, 1).observed, check(0, 1).held], ['free', false]);
    assert.equal(check(0, 1).note, 'mismatch: free to unload with 1 zombie file(s) still open');
  });

  it('vfio with a holder: the unbind will block while that PID holds the node', () => {
    const p = predictSwap(input({ holders: [holder(4242, [{ minor: 0, ino: 10 }])], loaded: [mod('hs_drv', 1)] }));
    assert.equal(
      p.predictions[0]?.statement,
      'unbind of pci/0000:04:00.0 will block while PID 4242 (app4242) holds /dev/hs0',
    );
    assert.equal(p.predictions[0]?.expected, 'blocks');
    assert.equal(p.predictions[0]?.source, 'table');
    assert.equal(p.devices[0]?.subsystem, 'vfio');
    assert.match(p.devices[0]?.basis.join('\n') ?? '', /caveat \(vfio\): .*anonymous inode/);
  });

  it('a module whose refcount rises with each open file owns the fops: its unload waits for the zombies, and they pin it', () => {
    const holders = [
      holder(1, [{ minor: 0, ino: 10 }]),
      holder(2, [
        { minor: 0, ino: 10 },
        { minor: 0, ino: 10 },
      ]),
    ];
    const p = predictSwap(
      input({ nodeClasses: [classes('misc')], loaded: [mod('hs_drv', 3)], holders, modules: ['hs_drv'] }),
    );
    const unload = p.predictions.find((x) => x.kind === 'unload');
    assert.equal(unload?.statement, 'module hs_drv cannot unload until 3 zombie FD(s) close (PIDs 1, 2)');
    assert.equal(unload?.source, 'host');
    assert.deepEqual(
      p.pins.map((pin) => [pin.module, pin.refcnt, pin.extraRefs, pin.pids]),
      [['hs_drv', 3, 3, [1, 2]]],
    );
  });

  it('RDMA has two rows for one class: the refcounts pick one, and without open files nothing is guessed', () => {
    const uverbs = { nodeClasses: [classes('infiniband_verbs')], modules: ['hs_ib', 'hs_drv'] };
    const held = [holder(7, [{ minor: 0, ino: 10 }])];
    const fenced = predictSwap(
      input({ ...uverbs, holders: held, loaded: [mod('hs_ib', 0), mod('hs_drv', 1, ['hs_ib'])] }),
    );
    assert.equal(fenced.devices[0]?.subsystem, 'rdma-uverbs-disassociate');
    assert.equal(fenced.predictions.find((x) => x.kind === 'errno')?.expected, 'EIO');
    assert.equal(fenced.predictions.find((x) => x.kind === 'unload')?.expected, 'free');
    const pinned = predictSwap(
      input({ ...uverbs, holders: held, loaded: [mod('hs_ib', 1), mod('hs_drv', 1, ['hs_ib'])] }),
    );
    assert.equal(pinned.devices[0]?.subsystem, 'rdma-uverbs');
    assert.equal(pinned.predictions[0]?.expected, 'blocks');
    const idle = predictSwap(input({ ...uverbs, loaded: [mod('hs_ib', 0), mod('hs_drv', 1, ['hs_ib'])] }));
    assert.equal(idle.devices[0]?.subsystem, null);
    assert.equal(idle.predictions[0]?.expected, null);
    assert.match(idle.predictions[0]?.statement ?? '', /unknown whether the unbind .*\(spec\.subsystem\)/);
  });

  it('the host overrides the table on who owns the fops, and says so', () => {
    const p = predictSwap(
      input({
        nodeClasses: [classes('misc')],
        loaded: [mod('hs_drv', 0)],
        holders: [holder(1, [{ minor: 0, ino: 10 }])],
      }),
    );
    assert.equal(p.devices[0]?.fopsOwner, 'subsystem');
    assert.match(
      p.devices[0]?.basis.join('\n') ?? '',
      /host contradicts the table \(fops owner driver\): going with the host/,
    );
  });

  it('an unknown class and no runbook word leave everything unknown; the runbook can name a row', () => {
    const unknown = predictSwap(input({ nodeClasses: [classes('hs-class')] }));
    assert.equal(unknown.devices[0]?.revokeScheme, null);
    assert.match(unknown.devices[0]?.basis[0] ?? '', /no row for class hs-class/);
    const named = predictSwap(input({ nodeClasses: [classes('hs-class')], override: { name: 'uio' } }));
    assert.equal(named.devices[0]?.subsystem, 'uio');
    assert.equal(named.devices[0]?.predictedErrno, 'EIO');
    const bogus = predictSwap(input({ override: { name: 'nosuch', revokeScheme: 'revoke' } }));
    assert.equal(bogus.devices[0]?.subsystem, null);
    assert.equal(bogus.devices[0]?.revokeScheme, 'revoke');
    assert.match(bogus.devices[0]?.basis[0] ?? '', /nosuch is not in the subsystem table/);
  });

  it('counts open files, not FDs: a mapping made from an FD shares its file', () => {
    const ids = new Set(['240:0/10' as const]);
    assert.equal(openFilesOf(holder(1, [{ minor: 0, ino: 10 }], [{ minor: 0, ino: 10 }]), ids), 1);
    assert.equal(openFilesOf(holder(1, [], [{ minor: 0, ino: 10 }]), ids), 1);
    assert.equal(openFilesOf(holder(1, [{ minor: 1, ino: 11 }]), ids), 0);
  });

  it('infers nothing from refcounts without an open file, or from a module holding fewer references than files', () => {
    assert.equal(inferFopsOwner([mod('a', 5)], 0).owner, null);
    assert.equal(inferFopsOwner([mod('a', 1)], 3).owner, null);
    assert.equal(inferFopsOwner([null], 3).owner, null);
    assert.deepEqual(inferFopsOwner([mod('a', 1, ['b']), mod('b', 2)], 2), {
      owner: 'driver',
      module: 'b',
      reason: 'b: 2 open file(s) and 2 reference(s) beyond dependent modules',
    });
  });
});

const overrideArb: fc.Arbitrary<SubsystemOverride | undefined> = fc.option(
  fc.record(
    {
      name: fc.constantFrom('misc', 'vfio', 'uio', 'nosuch'),
      revokeScheme: fc.constantFrom('revoke' as const, 'wait' as const),
      fopsOwner: fc.constantFrom('driver' as const, 'subsystem' as const),
      errno: fc.constantFrom('ENODEV', 'EIO'),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

const inputArb: fc.Arbitrary<PredictionInput> = fc
  .record({
    deviceCount: fc.integer({ min: 1, max: 3 }),
    cls: fc.constantFrom('misc', 'vfio', 'uio', 'infiniband_verbs', 'virtio-ports', 'hs-class', null),
    refcnt: fc.integer({ min: 0, max: 6 }),
    fds: fc.array(fc.record({ pid: fc.integer({ min: 100, max: 104 }), dev: fc.nat(2), mmap: fc.boolean() }), {
      maxLength: 6,
    }),
    override: overrideArb,
  })
  .map(({ deviceCount, cls, refcnt, fds, override }) => {
    const devices = Array.from({ length: deviceCount }, (_, i) => device(`0000:0${i}:00.0`, i, 10 + i));
    const byPid = new Map<number, Holder>();
    for (const f of fds.filter((f) => f.dev < deviceCount)) {
      const h = byPid.get(f.pid) ?? holder(f.pid, []);
      const file = { minor: f.dev, ino: 10 + f.dev };
      const next = f.mmap ? holder(f.pid, [], [file]) : holder(f.pid, [file]);
      byPid.set(f.pid, { ...h, files: [...h.files, ...next.files], mappings: [...h.mappings, ...next.mappings] });
    }
    return input({
      devices,
      nodeClasses: devices.map((_, i) => classes(cls, i)),
      loaded: [mod('hs_drv', refcnt)],
      holders: [...byPid.values()],
      override,
    });
  });

describe('subsystem predictions, properties', () => {
  it('one unbind prediction per device, one unload prediction, and the runbook always wins', () => {
    fc.assert(
      fc.property(inputArb, (inp) => {
        const p = predictSwap(inp);
        const unbinds = p.predictions.filter((x) => x.kind === 'unbind');
        assert.deepEqual(
          unbinds.map((x) => x.subject),
          inp.devices.map((d) => `${d.bus}/${d.id}`),
        );
        assert.equal(p.predictions.filter((x) => x.kind === 'unload').length, 1);
        for (const d of p.devices) {
          if (inp.override?.revokeScheme) assert.equal(d.revokeScheme, inp.override.revokeScheme);
          if (inp.override?.fopsOwner) assert.equal(d.fopsOwner, inp.override.fopsOwner);
          if (inp.override?.errno) assert.equal(d.predictedErrno, inp.override.errno);
        }
        for (const x of unbinds) {
          if (inp.override?.revokeScheme) assert.equal(x.source, 'runbook');
          if (x.expected === 'blocks') {
            const dev = p.devices.find((d) => d.device === x.subject);
            assert.equal(dev?.revokeScheme, 'wait');
            assert.ok((dev?.holders.length ?? 0) > 0, 'blocks only while someone holds a node');
            for (const h of dev?.holders ?? []) assert.ok(x.statement.includes(`${h.pid} (`));
          }
        }
        // Zombies pin the stack only with driver-owned fops on a device that revokes.
        const unload = p.predictions.find((x) => x.kind === 'unload');
        if (unload?.expected === 'waits') {
          assert.ok(
            p.devices.some((d) => d.fopsOwner === 'driver' && d.revokeScheme !== 'wait' && d.holders.length > 0),
          );
        }
        if (p.devices.every((d) => d.fopsOwner === 'subsystem')) assert.equal(unload?.expected, 'free');
        // Pins name only PIDs that hold a node.
        const holding = new Set(p.devices.flatMap((d) => d.holders.map((h) => h.pid)));
        for (const pin of p.pins) for (const pid of pin.pids) assert.ok(holding.has(pid));
      }),
      { numRuns: 300 },
    );
  });

  it('a check holds exactly when the observation is the expectation; the errno is never held', () => {
    const unbindArb = (device: string) =>
      fc.record({
        device: fc.constant(device),
        blocked: fc.boolean(),
        returned: fc.boolean(),
        heldBefore: fc.nat(2),
        zombiesAfter: fc.option(fc.nat(2), { nil: null }),
      });
    const seenArb = fc.record({
      unbinds: fc.tuple(unbindArb('pci/0000:00:00.0'), unbindArb('pci/0000:01:00.0'), unbindArb('pci/0000:02:00.0')),
      zombieFds: fc.option(fc.nat(4), { nil: null }),
      unloadRefcnt: fc.option(fc.nat(3), { nil: null }),
      zombiesWhenFree: fc.option(fc.nat(3), { nil: null }),
    });
    fc.assert(
      fc.property(inputArb, seenArb, (inp, seen) => {
        const predictions = predictSwap(inp).predictions;
        const checks = checkPredictions(predictions, seen);
        assert.equal(checks.length, predictions.length);
        for (const c of checks) {
          if (c.kind === 'errno') assert.equal(c.held, null);
          // Holders gone by the census never contradict a blocking unbind that returned.
          const u = seen.unbinds.find((x) => x.device === c.subject);
          if (c.kind === 'unbind' && c.expected === 'blocks' && u && u.heldBefore > 0 && u.zombiesAfter === 0) {
            assert.notEqual(c.held, false);
          }
          if (c.held !== null) assert.equal(c.held, c.observed === c.expected);
          if (c.held === false) assert.match(c.note, /^mismatch: /);
          if (c.expected === null) assert.equal(c.held, null);
        }
      }),
      { numRuns: 300 },
    );
  });
});
