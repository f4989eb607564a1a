import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { SwapReport } from '@hotswap/contracts';
import { SimKernelAdapter } from '@hotswap/kernel';
import { paths } from '@hotswap/tools';

const run = promisify(execFile);

/** The one-host mode as a user runs it: a real process, a real simulated host, JSON out. */
describe('hotswap-agent swap (one-host mode)', { timeout: 60_000 }, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'hotswap-one-host-'));
  const argv = [
    paths.agentMain,
    'swap',
    '--runbook',
    join(paths.runbooks, 'sim-misc.yaml'),
    '--kernel',
    'sim',
    '--scenario',
    join(paths.scenarios, 'misc-driver-owned.yaml'),
    '--state-dir',
    stateDir,
    '--json',
  ];

  after(async () => {
    const port = await SimKernelAdapter.connect(join(stateDir, 'sim-host.sock')).catch(() => null);
    await port?.shutdownHost().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('swaps the host and prints the report as JSON; a second run finds it on the target', async () => {
    const first = JSON.parse((await run(process.execPath, argv)).stdout) as SwapReport;
    assert.equal(first.outcome, 'succeeded', first.error ?? '');
    assert.equal(first.toVersion, '2.0');
    assert.deepEqual(
      first.recoveries.map((r) => r.status),
      ['recovered', 'recovered'],
    );
    const second = JSON.parse((await run(process.execPath, argv)).stdout) as SwapReport;
    assert.equal(second.outcome, 'skipped');
  });

  it('refuses bad usage with exit status 2 and says what is missing', async () => {
    await assert.rejects(
      run(process.execPath, [paths.agentMain, 'swap', '--kernel', 'sim']),
      (error: { code: number; stderr: string }) => {
        assert.equal(error.code, 2);
        assert.match(error.stderr, /--runbook and --kernel linux\|sim are required \(sim also needs --scenario\)/);
        return true;
      },
    );
  });
});
