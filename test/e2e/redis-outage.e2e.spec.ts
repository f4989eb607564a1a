import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { SwapReport } from '@hotswap/contracts';
import { SimKernelAdapter } from '@hotswap/kernel';
import { SimFleet } from '@hotswap/tools';
import { getJson, postJson, waitFor } from '../support/http.js';
import { simMiscRunbook } from '../support/sim-misc.runbook.js';

/**
 * Redis becomes unreachable in the middle of a swap (the server is frozen, as a network
 * partition looks to its clients). The swap must still finish on the host, its result kept in
 * the agent's journal, and reported once Redis is back.
 */
const scenario = join(fileURLToPath(new URL('.', import.meta.url)), '../../e2e/scenarios/slow-zombie.yaml');

interface RolloutView {
  state: string;
  hosts: { steps: { phase: string; status: string }[]; report: SwapReport | null }[];
}

describe('a swap finishes while Redis is unreachable, and is reported when it is back', { timeout: 120_000 }, () => {
  let fleet: SimFleet;
  let journaledWhileFrozen: string | null = null;
  let hostVersionWhileFrozen: string | null = null;
  let final: RolloutView;

  before(async () => {
    fleet = await SimFleet.start({ scenarios: [scenario] });
    const host = fleet.hosts[0]!;
    const created = await postJson(`${fleet.controllerUrl}/v1/rollouts`, simMiscRunbook('redis-outage', [host.hostId]));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const url = `${fleet.controllerUrl}/v1/rollouts/${String(created.body['id'])}`;
    await waitFor('the swap to wait for the zombie FD', 45_000, async () => {
      const view = await getJson<RolloutView>(url);
      return view.hosts[0]?.steps.some((s) => s.phase === 'zombie-wait' && s.status === 'started') ? true : undefined;
    });
    fleet.redis.freeze();
    try {
      // Only the host and the agent's journal are asked now: neither goes through Redis.
      journaledWhileFrozen = await waitFor('the swap to end in the journal', 45_000, async () => {
        const dir = join(host.stateDir, 'journal');
        for (const file of readdirSync(dir)) {
          const lines = readFileSync(join(dir, file), 'utf8').trim().split('\n');
          const last = JSON.parse(lines[lines.length - 1]!) as { state?: { phase: string; outcome?: string } };
          if (last.state?.phase === 'done') return last.state.outcome ?? 'done';
        }
        return undefined;
      });
      const port = await SimKernelAdapter.connect(host.socket);
      hostVersionWhileFrozen = (await port.module('hs_misc'))?.version ?? null;
      await port.close();
    } finally {
      fleet.redis.thaw();
    }
    final = await waitFor('the rollout to end once Redis is back', 60_000, async () => {
      const view = await getJson<RolloutView>(url);
      return view.state === 'succeeded' || view.state === 'paused' || view.state === 'failed' ? view : undefined;
    });
  });

  after(async () => {
    await fleet?.stop(process.env['KEEP_FLEET'] === '1');
  });

  it('the swap finished on the host and in the journal while Redis was frozen', () => {
    assert.equal(journaledWhileFrozen, 'succeeded');
    assert.equal(hostVersionWhileFrozen, '2.0');
  });

  it('the result reached the controller after Redis came back', () => {
    assert.equal(final.state, 'succeeded', JSON.stringify(final));
    assert.equal(final.hosts[0]?.report?.outcome, 'succeeded');
    assert.deepEqual(
      final.hosts[0]?.report?.recoveries.map((r) => r.status),
      ['recovered'],
    );
  });
});
