import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { DryRunPlan, SwapReport } from '@hotswap/contracts';
import { SimKernelAdapter } from '@hotswap/kernel';
import { paths } from '@hotswap/tools';

const run = promisify(execFile);

/**
 * hs_rdma depends on hs_ib_core, which nothing else uses: `modprobe -r hs_rdma` removes both.
 * hs_ib_core was loaded with debug=1 from its 1.0 file; the installed default is 1.1, which a
 * plain `modprobe hs_rdma` would pull in without the parameter.
 */
const scenario = (faults: string) => `host: sim-deps
seed: 5
timing: { unbindMs: 5, unloadMs: 10, loadMs: 10, probeMs: 10 }
modules:
  - { name: hs_ib_core, version: '1.0', srcversion: CORE10, file: /lib/modules/sim/hs_ib_core-1.0.ko, params: [debug=1] }
  - name: hs_rdma
    version: '1.0'
    srcversion: RDMA10
    file: /lib/modules/sim/hs_rdma-1.0.ko
    dependsOn: [hs_ib_core]
    params: [num_queues=8]
moduleFiles:
  - { module: hs_rdma, file: /lib/modules/sim/hs_rdma-2.0.ko, version: '2.0', srcversion: RDMA20, dependsOn: [hs_ib_core], default: true }
  - { module: hs_ib_core, file: /lib/modules/sim/hs_ib_core-1.1.ko, version: '1.1', srcversion: CORE11, default: true }
drivers: [{ name: hs_rdma, module: hs_rdma, bus: pci }]
devices:
  - bus: pci
    id: '0000:03:00.0'
    driver: hs_rdma
    node: { path: /dev/infiniband/uverbs0, major: 231, minor: 192, class: infiniband_verbs }
    fopsOwner: subsystem
    fopsModule: hs_ib_core
${faults}`;

const RUNBOOK = `apiVersion: hotswap/v1
kind: Runbook
metadata: { name: rdma-deps }
spec:
  modules: [{ name: hs_rdma, target: { version: '2.0' } }]
  devices: { bus: pci, driver: hs_rdma }
  deadlines: { unbindSeconds: 2, zombieCloseSeconds: 5, actionSeconds: 5, recoveryWatchSeconds: 2 }
`;

/**
 * Rollback material as real processes use it: the dry run names what `modprobe -r` takes along,
 * the swap journals it before unloading, and both the forward path and the restore load the
 * dependency back from its own file with its own parameters.
 */
describe(
  'rollback material: modules modprobe -r takes along (one-host mode, simulated host)',
  { timeout: 120_000 },
  () => {
    const dirs: string[] = [];
    const host = (faults: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'hotswap-rollback-material-'));
      dirs.push(dir);
      writeFileSync(join(dir, 'scenario.yaml'), scenario(faults));
      writeFileSync(join(dir, 'runbook.yaml'), RUNBOOK);
      const argv = (...extra: string[]) => [
        paths.agentMain,
        'swap',
        '--runbook',
        join(dir, 'runbook.yaml'),
        '--kernel',
        'sim',
        '--scenario',
        join(dir, 'scenario.yaml'),
        '--state-dir',
        join(dir, 'state'),
        '--json',
        ...extra,
      ];
      const stdout = (...extra: string[]) =>
        run(process.execPath, argv(...extra)).then(
          (r) => r.stdout,
          (e: { stdout: string }) => e.stdout,
        );
      return {
        dryRun: async () => JSON.parse(await stdout('--dry-run')) as DryRunPlan,
        swap: async () => JSON.parse(await stdout()) as SwapReport,
        modules: async () => {
          const port = await SimKernelAdapter.connect(join(dir, 'state', 'sim-host.sock'));
          try {
            return Object.fromEntries(
              (await port.snapshot()).modules.map((m) => [m.name, { version: m.version, params: m.params }]),
            );
          } finally {
            await port.close();
          }
        },
      };
    };

    after(async () => {
      for (const dir of dirs) {
        const port = await SimKernelAdapter.connect(join(dir, 'state', 'sim-host.sock')).catch(() => null);
        await port?.shutdownHost().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('the dry run and the report name both modules; the swap loads hs_ib_core back as it was, then the new hs_rdma', async () => {
      const h = host('');
      const plan = await h.dryRun();
      assert.deepEqual(
        plan.rollback.map((m) => [m.name, m.version, m.file, m.params, m.why]),
        [
          ['hs_rdma', '1.0', '/lib/modules/sim/hs_rdma-1.0.ko', ['num_queues=8'], 'stack'],
          ['hs_ib_core', '1.0', '/lib/modules/sim/hs_ib_core-1.0.ko', ['debug=1'], 'dependency'],
        ],
      );
      const report = await h.swap();
      assert.equal(report.outcome, 'succeeded', report.error ?? '');
      assert.deepEqual(
        report.rollback?.map((m) => m.name),
        ['hs_rdma', 'hs_ib_core'],
      );
      assert.deepEqual(await h.modules(), {
        hs_ib_core: { version: '1.0', params: ['debug=1'] },
        hs_rdma: { version: '2.0', params: [] },
      });
    });

    it('a failed load is restored to the very modules, files and parameters the host had', async () => {
      const h = host('faults: [{ kind: load-fails, module: hs_rdma, file: /lib/modules/sim/hs_rdma-2.0.ko }]\n');
      const report = await h.swap();
      assert.equal(report.outcome, 'failed-restored', report.error ?? '');
      assert.match(report.error ?? '', /load failed/);
      assert.deepEqual(await h.modules(), {
        hs_ib_core: { version: '1.0', params: ['debug=1'] },
        hs_rdma: { version: '1.0', params: ['num_queues=8'] },
      });
    });
  },
);
