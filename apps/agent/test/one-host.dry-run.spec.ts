import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { DryRunPlan, SwapJob, SwapReport } from '@hotswap/contracts';
import { SimKernelAdapter } from '@hotswap/kernel';
import { paths } from '@hotswap/tools';
import { FileSwapJournal } from '../src/journal/file-swap.journal.js';

const run = promisify(execFile);

/** A runbook swapping one simulated module to 2.0, with short deadlines and an optional spec.subsystem. */
function runbook(dir: string, module: string, bus: string, subsystem = '', driver = module, unbindSeconds = 1): string {
  const file = join(dir, `${module}-${unbindSeconds}.yaml`);
  writeFileSync(
    file,
    `apiVersion: hotswap/v1
kind: Runbook
metadata: { name: ${module.replace(/_/g, '-')} }
spec:
  modules: [{ name: ${module}, target: { version: '2.0' } }]
  devices: { bus: ${bus}, driver: ${driver} }
  deadlines: { unbindSeconds: ${unbindSeconds}, zombieCloseSeconds: 10, actionSeconds: 10, recoveryWatchSeconds: 10 }
  recovery: { pollMilliseconds: 50 }
${subsystem}`,
  );
  return file;
}

/**
 * `swap --dry-run` as a user runs it against real simulated hosts: it predicts per device from
 * the subsystem table and the host's refcounts, touches nothing, and the real swap that follows
 * says whether each prediction held.
 */
describe('hotswap-agent swap --dry-run (one-host mode)', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const host = (scenario: string, runbookFile: string) => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hotswap-dry-run-'));
    dirs.push(stateDir);
    const base = ['swap', '--runbook', runbookFile, '--kernel', 'sim', '--scenario', join(paths.scenarios, scenario)];
    const argv = (...extra: string[]) => [paths.agentMain, ...base, '--state-dir', stateDir, ...extra];
    return {
      stateDir,
      dryRun: async () => JSON.parse((await run(process.execPath, argv('--dry-run', '--json'))).stdout) as DryRunPlan,
      // Exit status 1 (a swap that failed or was refused) still prints the report.
      swap: async () =>
        JSON.parse(
          await run(process.execPath, argv('--json')).then(
            (r) => r.stdout,
            (e: { stdout: string }) => e.stdout,
          ),
        ) as SwapReport,
      text: (...extra: string[]) => run(process.execPath, argv(...extra)).then((r) => r.stdout),
      actions: async () => {
        const port = await SimKernelAdapter.connect(join(stateDir, 'sim-host.sock'));
        try {
          const kernelActions = ['unbind-start', 'bind', 'load', 'unload-start', 'unload', 'unload-refused', 'signal'];
          return (await port.actionLog()).filter((e) => kernelActions.includes(e.kind));
        } finally {
          await port.close();
        }
      },
    };
  };
  const runbooks = mkdtempSync(join(tmpdir(), 'hotswap-dry-run-runbooks-'));
  dirs.push(runbooks);

  after(async () => {
    for (const dir of dirs) {
      const port = await SimKernelAdapter.connect(join(dir, 'sim-host.sock')).catch(() => null);
      await port?.shutdownHost().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('misc (driver owns the fops): predicts a returning unbind and an unload that waits for the zombies, and both hold', async () => {
    const h = host('misc-driver-owned.yaml', join(paths.runbooks, 'sim-misc.yaml'));
    const plan = await h.dryRun();
    assert.equal(plan.kind, 'dry-run');
    assert.equal(plan.verdict, 'would-swap');
    assert.deepEqual(await h.actions(), [], 'a dry run performs no kernel action');
    const [device] = plan.devices;
    assert.equal(device?.subsystem, 'misc');
    assert.equal(device?.fopsOwner, 'driver');
    const unload = plan.predictions.find((p) => p.kind === 'unload');
    assert.equal(unload?.expected, 'waits');
    assert.equal(unload?.statement, 'module hs_misc cannot unload until 2 zombie FD(s) close (PIDs 1201, 1202)');
    assert.deepEqual(plan.pins, [
      {
        module: 'hs_misc',
        refcnt: 2,
        extraRefs: 2,
        pids: [1201, 1202],
        reason: 'hs_misc: 2 open file(s) and 2 reference(s) beyond dependent modules',
      },
    ]);
    assert.deepEqual(
      plan.rollback.map((m) => [m.name, m.file, m.why]),
      [['hs_misc', '/lib/modules/sim/hs_misc-1.0.ko', 'stack']],
    );

    const report = await h.swap();
    assert.equal(report.outcome, 'succeeded', report.error ?? '');
    assert.deepEqual(
      report.predictions?.map((p) => [p.kind, p.expected, p.observed, p.held]),
      [
        ['unbind', 'returns', 'returns', true],
        ['errno', null, null, null],
        ['unload', 'waits', 'waits', true],
      ],
    );
    assert.deepEqual(report.pins?.[0]?.pids, [1201, 1202]);
  });

  it('rdma (the subsystem owns the fops): the refcounts pick the disassociate row; EIO is predicted, never observed', async () => {
    const h = host('rdma-subsystem.yaml', runbook(runbooks, 'hs_rdma', 'pci'));
    const plan = await h.dryRun();
    const [device] = plan.devices;
    assert.equal(device?.subsystem, 'rdma-uverbs-disassociate');
    assert.equal(device?.fopsOwner, 'subsystem');
    assert.deepEqual(plan.pins, []);
    assert.deepEqual(
      plan.predictions.map((p) => [p.kind, p.expected, p.source]),
      [
        ['unbind', 'returns', 'table'],
        ['errno', 'EIO', 'table'],
        ['unload', 'free', 'host'],
      ],
    );
    const report = await h.swap();
    assert.equal(report.outcome, 'succeeded', report.error ?? '');
    assert.deepEqual(
      report.predictions?.map((p) => p.held),
      [true, null, true],
    );
    assert.match(report.predictions?.[1]?.note ?? '', /never seen by the agent/);
  });

  it('vfio (wait): names the PID the unbind will block on; a runbook override that says otherwise is reported as a mismatch', async () => {
    const honest = host('vfio-wait.yaml', runbook(runbooks, 'hs_vfio', 'pci'));
    const plan = await honest.dryRun();
    assert.equal(
      plan.predictions[0]?.statement,
      'unbind of pci/0000:04:00.0 will block while PID 3201 (qemu-vm1) holds /dev/vfio/12',
    );
    const report = await honest.swap();
    assert.equal(report.outcome, 'failed-restored');
    assert.deepEqual(report.predictions?.[0] && [report.predictions[0].observed, report.predictions[0].held], [
      'blocks',
      true,
    ]);

    // QEMU lets go 3 s after the release request: within a 10 s deadline the unbind returns then,
    // which is what "will block while PID 3201 holds" predicted, not a mismatch.
    const patient = host('vfio-wait.yaml', runbook(runbooks, 'hs_vfio', 'pci', '', 'hs_vfio', 10));
    const waited = await patient.swap();
    assert.equal(waited.outcome, 'succeeded', waited.error ?? '');
    assert.deepEqual(
      [waited.predictions?.[0]?.observed, waited.predictions?.[0]?.held, waited.predictions?.[0]?.note],
      ['blocks', true, 'the unbind returned once every holder had closed its files'],
    );

    const overrides = mkdtempSync(join(tmpdir(), 'hotswap-dry-run-override-'));
    dirs.push(overrides);
    const override = '  subsystem: { revokeScheme: revoke, errno: EIO }\n';
    const wrong = host('vfio-wait.yaml', runbook(overrides, 'hs_vfio', 'pci', override));
    const overridden = await wrong.dryRun();
    assert.equal(overridden.predictions[0]?.expected, 'returns');
    assert.equal(overridden.predictions[0]?.source, 'runbook');
    const text = await wrong.text().catch((e: { stdout: string }) => e.stdout);
    assert.match(text, /^sim-vfio: failed-restored \(hs_vfio 1\.0 -> 2\.0\); 1 prediction\(s\) did not hold$/m);
    assert.match(text, /prediction MISMATCH: unbind of pci\/0000:04:00.0 will return at once/);
    assert.match(text, /mismatch: the unbind did not return in time, observed blocks/);
  });

  it('prints a readable plan with --dry-run alone, and exits 1 when the swap would be refused', async () => {
    const h = host('misc-driver-owned.yaml', runbook(runbooks, 'hs_misc', 'platform', '', 'hs_other'));
    const refused = await h.text('--dry-run').catch((e: { code: number; stdout: string }) => {
      assert.equal(e.code, 1);
      return e.stdout;
    });
    assert.match(refused, /would refuse/);
    assert.match(refused, /refusal: no device on bus platform is bound to driver hs_other/);
  });

  it('notes a swap a crashed run left unfinished: a real run would finish it first', async () => {
    const h = host('misc-driver-owned.yaml', join(paths.runbooks, 'sim-misc.yaml'));
    const job: SwapJob = {
      v: 1,
      rolloutId: 'r1',
      hostId: 'sim-misc',
      direction: 'forward',
      runbook: {},
      notAfter: 0,
      enqueuedAt: 0,
    };
    await new FileSwapJournal(join(h.stateDir, 'journal')).begin('r1-sim-misc-forward', job);
    const plan = await h.dryRun();
    assert.deepEqual(plan.notes, [
      'swap r1-sim-misc-forward was left unfinished by a previous run: a real run finishes (or rolls back) it first',
    ]);
  });

  it('a host it cannot read is a refusal with the reason, as the swap would say', async () => {
    const h = host('misc-driver-owned.yaml', runbook(runbooks, 'hs_nothere', 'platform'));
    const plan = await h.dryRun().catch((e: { code: number; stdout: string }) => {
      assert.equal(e.code, 1);
      return JSON.parse(e.stdout) as DryRunPlan;
    });
    assert.equal(plan.verdict, 'would-refuse');
    assert.match(plan.reasons[0] ?? '', /^cannot inspect host: /);
  });
});
