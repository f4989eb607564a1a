import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { SwapReport } from '@hotswap/contracts';
import { SimKernelAdapter } from '@hotswap/kernel';
import { SimFleet } from '@hotswap/tools';
import { getJson, postJson, waitFor } from '../support/http.js';
import { simMiscRunbook } from '../support/sim-misc.runbook.js';

/**
 * Crash safety: the agent is killed with SIGKILL in the middle of a swap (while it waits for a
 * zombie FD to close) and started again against the same simulated host. It must read its
 * journal, finish the swap without repeating what was done, and report the result.
 */

/** Where a rollout rests: finished, or paused (a failure under the default policy, pause). */
const SETTLED = new Set(['succeeded', 'failed', 'aborted', 'rolled-back', 'paused']);

const scenario = join(fileURLToPath(new URL('.', import.meta.url)), '../../e2e/scenarios/slow-zombie.yaml');

interface RolloutView {
  id: string;
  state: string;
  hosts: { hostId: string; state: string; steps: { phase: string; status: string }[]; report: SwapReport | null }[];
}

describe('an agent killed mid-swap resumes from its journal', { timeout: 90_000 }, () => {
  let fleet: SimFleet;
  let final: RolloutView;

  before(async () => {
    fleet = await SimFleet.start({ scenarios: [scenario] });
    const host = fleet.hosts[0]!;
    const created = await postJson(`${fleet.controllerUrl}/v1/rollouts`, simMiscRunbook('crash-resume', [host.hostId]));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const url = `${fleet.controllerUrl}/v1/rollouts/${created.body['id']}`;
    await waitFor('the swap to wait for the zombie FD', 45_000, async () => {
      const view = await getJson<RolloutView>(url);
      return view.hosts[0]?.steps.some((s) => s.phase === 'zombie-wait' && s.status === 'started') ? true : undefined;
    });
    await fleet.restartAgent(host);
    final = await waitFor('the rollout to end', 40_000, async () => {
      const view = await getJson<RolloutView>(url);
      return SETTLED.has(view.state) ? view : undefined;
    });
  });

  after(async () => {
    await fleet?.stop(process.env['KEEP_FLEET'] === '1');
  });

  it('the swap completes on the new version after the restart', () => {
    const report = final.hosts[0]?.report;
    assert.equal(final.state, 'succeeded', JSON.stringify(final));
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(report?.toVersion, '2.0');
    assert.deepEqual(
      report?.recoveries.map((r) => r.status),
      ['recovered'],
    );
  });

  it('nothing was done twice: one unbind, one unload, one load', async () => {
    const port = await SimKernelAdapter.connect(fleet.hosts[0]!.socket);
    try {
      const log = await port.actionLog();
      const count = (kind: string): number => log.filter((e) => e.kind === kind).length;
      assert.equal(count('unbind-start'), 1);
      assert.equal(count('unload'), 1);
      assert.equal(count('load'), 1);
      assert.equal((await port.module('hs_misc'))?.version, '2.0');
    } finally {
      await port.close();
    }
  });
});
