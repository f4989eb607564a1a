import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { capturedNodeStat, LinuxKernelAdapter, type BoundDevice, type ModuleTarget } from '@hotswap/kernel';
import { dryRunPlan, planFromRunbook } from '@hotswap/swap';
import { validateRunbook } from '@hotswap/runbook';
import { LinuxHostFacts } from '../src/kernel/linux-host.facts.js';
import { redisHostsOf } from '../src/kernel/redis-host.js';
import { inspectHost } from '../src/swap/host.inspection.js';

/** The Linux adapter's captured host (sysfs, procfs, dev) and fake kmod tools, from libs/kernel's tests. */
const FIXTURES = fileURLToPath(new URL('../../../../libs/kernel/test/fixtures/linux/', import.meta.url));
const adapter = () =>
  new LinuxKernelAdapter({
    roots: { sys: `${FIXTURES}host/sys`, proc: `${FIXTURES}host/proc`, dev: `${FIXTURES}host/dev` },
    statNode: capturedNodeStat,
    commands: {
      modinfo: `${FIXTURES}bin/modinfo`,
      modprobe: `${FIXTURES}bin/modprobe`,
      insmod: `${FIXTURES}bin/insmod`,
    },
  });

const MLX: BoundDevice = { bus: 'pci', id: '0000:03:00.0', driver: 'mlx5_core', nodes: [] };
const MISC: BoundDevice = { bus: 'platform', id: 'hs_misc.0', driver: 'hs_misc', nodes: [] };
const target = (file: string): ModuleTarget => ({ module: 'hs_misc', file, version: '2.0', srcversion: null });

describe('Linux preflight: the network device on the route to Redis', () => {
  it('takes the Redis hosts from the agent URL: none for a socket, the seeds of a cluster', () => {
    assert.deepEqual(redisHostsOf('/run/redis/redis.sock'), []);
    assert.deepEqual(redisHostsOf('redis://10.0.0.7:6379/0'), ['10.0.0.7']);
    assert.deepEqual(redisHostsOf('rediss://user:secret@[fd00::7]:6380'), ['fd00::7']);
    assert.deepEqual(redisHostsOf('redis+cluster://10.0.0.7:7000,10.0.0.8:7000,10.0.0.7:7001'), [
      '10.0.0.7',
      '10.0.0.8',
    ]);
    assert.deepEqual(redisHostsOf('http://nope'), []);
  });

  it('refuses to swap the PCI function that carries the interface Redis is reached through (IPv4 and IPv6)', async () => {
    for (const host of ['10.0.0.7', 'fd00::7']) {
      const { refusals } = await new LinuxHostFacts(adapter(), [host]).preflight({ devices: [MLX], targets: [] });
      const route = refusals.filter((r) => r.includes('route to Redis'));
      assert.equal(route.length, 1, refusals.join('\n'));
      assert.match(
        route[0] ?? '',
        new RegExp(`^device pci/0000:03:00.0 carries ens3f0, the agent's route to Redis \\(${host}, ${host}\\)`),
      );
    }
  });

  it('lets the swap through when Redis is reached another way, or there is no Redis (one-host mode)', async () => {
    const cases: [string[], BoundDevice][] = [
      [['192.168.50.3'], MLX], // through a bridge
      [['10.0.1.5'], MLX], // its /24 route on ens3f0 is down: the default route (bridge) carries it
      [['127.0.0.1'], MLX], // loopback
      [['10.0.0.7'], MISC], // ens3f0 is not this device's
      [[], MLX], // one-host mode
    ];
    for (const [hosts, device] of cases) {
      const { refusals } = await new LinuxHostFacts(adapter(), hosts).preflight({ devices: [device], targets: [] });
      assert.deepEqual(
        refusals.filter((r) => r.includes('Redis')),
        [],
        `${hosts.join(',')} ${device.id}`,
      );
    }
  });

  it('says so when the Redis host name does not resolve', async () => {
    const { refusals } = await new LinuxHostFacts(adapter(), ['redis.invalid']).preflight({
      devices: [MLX],
      targets: [],
    });
    assert.match(refusals.join('\n'), /cannot resolve the Redis host redis\.invalid/);
  });
});

describe('Linux preflight: module signatures under enforcement (the captured host has sig_enforce and lockdown)', () => {
  it('refuses a target without a signature, with the reason', async () => {
    const { refusals } = await new LinuxHostFacts(adapter()).preflight({
      devices: [],
      targets: [target('/ko/hs_misc-2.0.ko')],
    });
    assert.ok(
      refusals.includes(
        'kernel lockdown (integrity) is on and /ko/hs_misc-2.0.ko carries no signature: the kernel would refuse to load it; sign it',
      ),
      refusals.join('\n'),
    );
  });

  it('lets a signed target through with a note naming its signer and key: the kernel checks it', async () => {
    const { refusals, notes } = await new LinuxHostFacts(adapter()).preflight({
      devices: [],
      targets: [target('/ko/hs_misc-2.0-signed.ko')],
    });
    assert.deepEqual(
      refusals.filter((r) => /signature|signed|lockdown|sig_enforce/.test(r)),
      [],
    );
    assert.deepEqual(notes, [
      'kernel lockdown (integrity) is on: /ko/hs_misc-2.0-signed.ko is signed by "hotswap lab signing key" ' +
        '(key 4B:6E:F5:AB:CA:66:98:25:17:8E:05:2C:84:66:7C:CB:C0:53:1F:8C); the kernel checks it against its keyring at load',
    ]);
  });
});

describe('dry run on the captured host: rollback material and pins', () => {
  it('records what modprobe -r of mlx5_ib and mlx5_core removes: the stack and the RDMA core modules left unused', async () => {
    const runbook = validateRunbook({
      apiVersion: 'hotswap/v1',
      kind: 'Runbook',
      metadata: { name: 'mlx5' },
      spec: {
        modules: [
          { name: 'mlx5_ib', target: { file: '/ko/mlx5_ib.ko' } },
          { name: 'mlx5_core', target: { version: '1.0' } },
        ],
        devices: { bus: 'pci', driver: 'mlx5_core' },
      },
    });
    const kernel = adapter();
    const plan = planFromRunbook(runbook);
    const inspection = await inspectHost(kernel, new LinuxHostFacts(kernel, ['10.0.0.7']), {
      devices: plan.devices,
      modules: plan.modules,
      loads: plan.loads.filter((l) => l.module === 'mlx5_ib'),
    });
    const dry = dryRunPlan(plan, inspection, { hostId: 'fixture', runbook: 'mlx5', at: 0 });
    assert.deepEqual(
      dry.rollback.map((m) => [m.name, m.why]),
      [
        ['mlx5_ib', 'stack'],
        ['mlx5_core', 'stack'],
        ['ib_uverbs', 'dependency'],
        ['ib_core', 'dependency'],
      ],
    );
    assert.deepEqual(dry.rollback[1]?.params, ['debug_mask=0', 'prof_sel=2']);
    assert.equal(dry.verdict, 'would-refuse');
    assert.match(dry.reasons.join('\n'), /carries ens3f0, the agent's route to Redis/);
    assert.equal(dry.devices[0]?.subsystem, null, 'uverbs: two rows and no open file to tell which');
    assert.match(dry.devices[0]?.basis.join('\n') ?? '', /rows rdma-uverbs-disassociate, rdma-uverbs fit class/);
  });

  it('takes along only what modules.dep names as a dependency when modprobe answers for the whole stack', async () => {
    // The captured modules.dep (the fake modprobe's --show-depends) names ib_core alone for
    // mlx5_ib; /proc/modules links mlx5_ib to mlx5_core, ib_uverbs and ib_core. ib_core stays:
    // ib_uverbs, which does not go, still uses it.
    const kernel = adapter();
    const runbook = validateRunbook({
      apiVersion: 'hotswap/v1',
      kind: 'Runbook',
      metadata: { name: 'mlx5-ib' },
      spec: {
        modules: [{ name: 'mlx5_ib', target: { file: '/ko/mlx5_ib.ko' } }],
        devices: { bus: 'pci', driver: 'mlx5_core' },
      },
    });
    const plan = planFromRunbook(runbook);
    const withKmod = await inspectHost(kernel, new LinuxHostFacts(kernel), plan);
    assert.deepEqual(
      dryRunPlan(plan, withKmod, { hostId: 'fixture', runbook: 'mlx5-ib', at: 0 }).rollback.map((m) => m.name),
      ['mlx5_ib'],
    );
    const linksOnly = await inspectHost(kernel, null, plan);
    assert.deepEqual(
      dryRunPlan(plan, linksOnly, { hostId: 'fixture', runbook: 'mlx5-ib', at: 0 }).rollback.map((m) => m.name),
      ['mlx5_ib', 'ib_uverbs', 'mlx5_core', 'ib_core'],
    );
  });
});
