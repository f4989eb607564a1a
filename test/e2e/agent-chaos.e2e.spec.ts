import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SwapReport } from '@hotswap/contracts';
import { SimKernelAdapter } from '@hotswap/kernel';
import { SimFleet, paths, type SimHost } from '@hotswap/tools';
import { getJson, postJson, waitFor } from '../support/http.js';
import { simMiscRunbook } from '../support/sim-misc.runbook.js';

/**
 * Chaos: the agent is killed with SIGKILL at every kernel action of a swap in turn, by the
 * simulated host itself at the exact point: `before` the action (the agent journaled its intent
 * and sent it, nothing happened yet) and `after` it (performed, but the agent never journaled
 * its completion). A new agent is started against the same host; the host must end on the old
 * or the new version with its device bound, and no action may have run twice.
 */
const POINTS = [
  { method: 'unbind', when: 'before' },
  { method: 'unbind', when: 'after' },
  { method: 'unload', when: 'before' },
  { method: 'unload', when: 'after' },
  { method: 'load', when: 'before' },
  { method: 'load', when: 'after' },
] as const;

interface RolloutView {
  state: string;
  hosts: { report: SwapReport | null }[];
}

describe('chaos: the agent killed at every point of a swap', { timeout: 150_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-chaos-'));
  const template = readFileSync(join(paths.scenarios, 'misc-driver-owned.yaml'), 'utf8');
  let fleet: SimFleet;
  const outcomes = new Map<
    string,
    { view: RolloutView; log: { kind: string }[]; version: string | null; driver: string | null }
  >();

  before(async () => {
    const scenarios = POINTS.map(({ method, when }, i) => {
      const file = join(dir, `chaos-${i}.yaml`);
      writeFileSync(file, template.replace(/^host: .*$/m, `host: chaos-${method}-${when}`));
      return file;
    });
    fleet = await SimFleet.start({ scenarios });
    await Promise.all(POINTS.map((point, i) => crashAndRecover(fleet.hosts[i]!, point)));
  });

  after(async () => {
    await fleet?.stop(process.env['KEEP_FLEET'] === '1');
    rmSync(dir, { recursive: true, force: true });
  });

  async function crashAndRecover(host: SimHost, point: (typeof POINTS)[number]): Promise<void> {
    const port = await SimKernelAdapter.connect(host.socket);
    try {
      await port.armCrash({ ...point, pid: host.agent.child.pid! });
      const created = await postJson(
        `${fleet.controllerUrl}/v1/rollouts`,
        simMiscRunbook(`chaos-${point.method}-${point.when}`, [host.hostId], 10),
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await waitFor(`the ${point.when}-${point.method} trap to kill the agent`, 30_000, async () =>
        host.agent.child.exitCode !== null || host.agent.child.signalCode !== null ? true : undefined,
      );
      assert.equal((await port.crashTraps()).fired.length, 1);
      await fleet.restartAgent(host);
      const url = `${fleet.controllerUrl}/v1/rollouts/${String(created.body['id'])}`;
      const view = await waitFor(`the rollout on ${host.hostId} to end`, 60_000, async () => {
        const v = await getJson<RolloutView>(url);
        return v.state === 'running' ? undefined : v;
      });
      const device = await port.device({ bus: 'platform', id: 'hs_misc.0' });
      outcomes.set(host.hostId, {
        view,
        log: await port.actionLog(),
        version: (await port.module('hs_misc'))?.version ?? null,
        driver: device?.driver ?? null,
      });
    } finally {
      await port.close();
    }
  }

  for (const { method, when } of POINTS) {
    it(`killed ${when} ${method}: the host ends with its driver bound, nothing ran twice`, () => {
      const seen = outcomes.get(`chaos-${method}-${when}`);
      assert.ok(seen, 'no outcome recorded');
      assert.equal(seen.driver, 'hs_misc', 'the device is bound to its driver');
      assert.ok(seen.version === '1.0' || seen.version === '2.0', `module version ${seen.version}`);
      assert.equal(seen.view.hosts[0]?.report?.outcome, 'succeeded', JSON.stringify(seen.view.hosts[0]?.report));
      assert.equal(seen.version, '2.0');
      const count = (kind: string): number => seen.log.filter((e) => e.kind === kind).length;
      assert.deepEqual(
        { unbind: count('unbind-start'), unload: count('unload'), load: count('load') },
        { unbind: 1, unload: 1, load: 1 },
      );
    });
  }
});
