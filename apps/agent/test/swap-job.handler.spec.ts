import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { swapJobId, type SwapJob } from '@hotswap/contracts';
import { SimKernelAdapter, ensureSimHost } from '@hotswap/kernel';
import { parseRunbook } from '@hotswap/runbook';
import { paths } from '@hotswap/tools';
import { FileSwapJournal } from '../src/journal/file-swap.journal.js';
import { HostLock } from '../src/lock/host.lock.js';
import { SwapJobHandler } from '../src/swap/swap-job.handler.js';

/**
 * The job handler against a real simulated host (its own process): a job delivered twice runs
 * once, an expired job is not run, and a rollback job swaps back to the files the forward swap
 * found loaded.
 */
describe('swap job handler', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-handler-'));
  const socketPath = join(dir, 'sim.sock');
  const runbook = parseRunbook(readFileSync(join(paths.runbooks, 'sim-misc.yaml'), 'utf8'));
  let port: SimKernelAdapter;
  let handler: SwapJobHandler;
  const job = (direction: 'forward' | 'rollback', notAfter = Date.now() + 60_000): SwapJob => ({
    v: 1,
    rolloutId: 'r-test',
    hostId: 'sim-misc',
    direction,
    runbook,
    notAfter,
    enqueuedAt: Date.now(),
  });

  before(async () => {
    await ensureSimHost({ scenarioPath: join(paths.scenarios, 'misc-driver-owned.yaml'), socketPath });
    port = await SimKernelAdapter.connect(socketPath);
    handler = new SwapJobHandler('sim-misc', port, new FileSwapJournal(join(dir, 'journal')), new HostLock(dir));
  });

  after(async () => {
    await port?.shutdownHost().catch(() => undefined);
    await port?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an expired job without touching the host', async () => {
    const report = await handler.handle('expired-1', job('forward', Date.now() - 5000), {});
    assert.equal(report.outcome, 'expired');
    assert.match(report.error ?? '', /expired 5 s ago/);
    assert.equal((await port.actionLog()).filter((e) => e.kind === 'unbind-start').length, 0);
  });

  it('a rollback before any forward swap has nothing to do', async () => {
    const report = await handler.handle(swapJobId('r-test', 'sim-misc', 'rollback'), job('rollback'), {});
    assert.equal(report.outcome, 'skipped');
  });

  it('runs a job delivered twice once, then rolls it back to the previous file', async () => {
    const forwardId = swapJobId('r-test', 'sim-misc', 'forward');
    const first = await handler.handle(forwardId, job('forward'), {});
    assert.equal(first.outcome, 'succeeded', first.error ?? '');
    const again = await handler.handle(forwardId, job('forward'), {});
    assert.deepEqual(again, first);
    assert.equal((await port.actionLog()).filter((e) => e.kind === 'unbind-start').length, 1);

    const back = await handler.handle(`${swapJobId('r-test', 'sim-misc', 'rollback')}-2`, job('rollback'), {});
    assert.equal(back.outcome, 'succeeded', back.error ?? '');
    const loaded = await port.module('hs_misc');
    assert.equal(loaded?.version, '1.0');
    assert.equal(loaded?.srcversion, first.fromSrcversion);
    assert.equal(loaded?.file, '/lib/modules/sim/hs_misc-1.0.ko');
  });
});
