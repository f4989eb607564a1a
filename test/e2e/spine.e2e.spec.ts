import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SwapReport } from '@hotswap/contracts';
import { SimKernelAdapter, parseScenario, type SimActionLogEntry } from '@hotswap/kernel';
import { SimFleet, paths } from '@hotswap/tools';
import { getJson, getText, metricValue, postJson, waitFor } from '../support/http.js';

/**
 * The spine, end to end: a private Redis, the controller and three agents as separate
 * processes, each agent on its own simulated host (a process of its own):
 *  - misc: the driver module owns the file operations (revoke scheme);
 *  - rdma: the subsystem owns them and fences the driver (revoke scheme);
 *  - vfio: the device is in the wait scheme (unbind blocks until every file is closed).
 * A rollout is created over HTTP for each, and the outcome is checked through the API, the
 * agents' /metrics and the simulated kernels' own action logs.
 */

/** Where a rollout rests: finished, or paused (a failure under the default policy, pause). */
const SETTLED = new Set(['succeeded', 'failed', 'aborted', 'rolled-back', 'paused']);

const POLL_MS = 50;
const scenarioFile = (name: string): string => join(paths.scenarios, `${name}.yaml`);
const scenario = (name: string) => parseScenario(readFileSync(scenarioFile(name), 'utf8'));

interface HostView {
  hostId: string;
  state: string;
  steps: { phase: string; status: string; at: number; detail?: string }[];
  report: SwapReport | null;
}
interface RolloutView {
  id: string;
  state: string;
  hosts: HostView[];
}

function runbookFor(name: string, module: string, bus: string, driver: string, hostId: string): object {
  return {
    apiVersion: 'hotswap/v1',
    kind: 'Runbook',
    metadata: { name },
    spec: {
      modules: [{ name: module, target: { version: '2.0' } }],
      devices: { bus, driver },
      deadlines: { unbindSeconds: 1, zombieCloseSeconds: 5, actionSeconds: 5, recoveryWatchSeconds: 10 },
      blockedUnbind: { policy: 'fail' },
      recovery: { pollMilliseconds: POLL_MS },
      hosts: { names: [hostId] },
    },
  };
}

/** The module, bus and driver of a scenario's first device. */
function stackOf(name: string): { module: string; bus: string; driver: string } {
  const s = scenario(name);
  const device = s.devices[0]!;
  const driver = s.drivers.find((d) => d.name === device.driver)!;
  return { module: driver.module, bus: device.bus, driver: driver.name };
}

describe('spine end to end: controller, three agents, three simulated hosts', { timeout: 120_000 }, () => {
  let fleet: SimFleet;
  const rollouts = new Map<string, RolloutView>();
  const hostIds = new Map<string, string>();
  let blockedSeen: { healthz: number; rolloutState: string; steps: HostView['steps'] } | null = null;

  before(async () => {
    fleet = await SimFleet.start({ scenarios: ['misc-driver-owned', 'rdma-subsystem', 'vfio-wait'].map(scenarioFile) });
    for (const [i, name] of ['misc-driver-owned', 'rdma-subsystem', 'vfio-wait'].entries()) {
      hostIds.set(name, fleet.hosts[i]!.hostId);
    }
    const ids = new Map<string, string>();
    for (const [name, hostId] of hostIds) {
      const { module, bus, driver } = stackOf(name);
      const created = await postJson(
        `${fleet.controllerUrl}/v1/rollouts`,
        runbookFor(`e2e-${name}`, module, bus, driver, hostId),
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      ids.set(name, String(created.body['id']));
    }
    // While the wait-scheme unbind is blocked, the agent must still answer and report it.
    blockedSeen = await waitFor('the vfio unbind to be reported blocked', 20_000, async () => {
      const view = await getJson<RolloutView>(`${fleet.controllerUrl}/v1/rollouts/${ids.get('vfio-wait')}`);
      const steps = view.hosts[0]?.steps ?? [];
      if (!steps.some((s) => s.status === 'blocked')) return undefined;
      const healthz = (await fetch(`${fleet.host(hostIds.get('vfio-wait')!).agentUrl}/healthz`)).status;
      return { healthz, rolloutState: view.state, steps };
    });
    for (const [name, id] of ids) {
      rollouts.set(
        name,
        await waitFor(`rollout ${name} to end`, 40_000, async () => {
          const view = await getJson<RolloutView>(`${fleet.controllerUrl}/v1/rollouts/${id}`);
          return SETTLED.has(view.state) ? view : undefined;
        }),
      );
    }
  });

  after(async () => {
    await fleet?.stop(process.env['KEEP_FLEET'] === '1');
  });

  const reportOf = (name: string): SwapReport => {
    const report = rollouts.get(name)?.hosts[0]?.report;
    assert.ok(report, `no report for ${name}: ${JSON.stringify(rollouts.get(name))}`);
    return report;
  };
  const actionLog = async (name: string): Promise<SimActionLogEntry[]> => {
    const port = await SimKernelAdapter.connect(fleet.host(hostIds.get(name)!).socket);
    try {
      return await port.actionLog();
    } finally {
      await port.close();
    }
  };

  /** Each holder's recovery lies in [reopen delay, reopen delay + jitter + poll interval]. */
  function assertRecoveries(name: string, report: SwapReport): void {
    const processes = scenario(name).processes;
    assert.equal(report.recoveries.length, processes.length, JSON.stringify(report.recoveries));
    for (const proc of processes) {
      const seen = report.recoveries.find((r) => r.comm === proc.comm);
      assert.ok(seen, `no recovery observation for ${proc.comm}`);
      assert.equal(seen.status, 'recovered');
      const delay = (proc.onError.reopenDelayMs ?? 0) / 1000;
      const jitter = (proc.onError.jitterMs ?? 0) / 1000;
      // A few ms of slack below: the agent learns of the unbind's return one socket round
      // trip after the simulated kernel, whose processes start their clocks at once.
      assert.ok(seen.seconds! >= delay - 0.015, `${proc.comm}: ${seen.seconds} s < reopen delay ${delay} s`);
      assert.ok(
        seen.seconds! <= delay + jitter + POLL_MS / 1000 + 0.05,
        `${proc.comm}: ${seen.seconds} s > ${delay} + ${jitter} + ${POLL_MS / 1000} s`,
      );
    }
  }

  it('the driver-owned host ends on the new version, one recovery per holder within bounds', () => {
    const report = reportOf('misc-driver-owned');
    assert.equal(rollouts.get('misc-driver-owned')!.state, 'succeeded');
    assert.equal(report.outcome, 'succeeded', report.error ?? '');
    assert.equal(report.toVersion, '2.0');
    assert.notEqual(report.fromSrcversion, report.toSrcversion);
    assert.ok(report.zombieFds >= scenario('misc-driver-owned').processes.length);
    assertRecoveries('misc-driver-owned', report);
  });

  it('the driver-owned module was unloaded only after its last zombie FD closed', async () => {
    const log = await actionLog('misc-driver-owned');
    const { module } = stackOf('misc-driver-owned');
    const unload = log.find((e) => e.kind === 'unload' && e.module === module);
    assert.ok(unload, `no unload of ${module} in ${JSON.stringify(log)}`);
    const closes = log.filter((e) => e.kind === 'close');
    assert.equal(closes.length, scenario('misc-driver-owned').processes.length);
    assert.ok(
      closes.every((c) => c.t <= unload.t && log.indexOf(c) < log.indexOf(unload)),
      'a zombie closed after the unload',
    );
    // The new module really is what got loaded: the kernel says so too.
    assert.ok(log.some((e) => e.kind === 'load' && e.module === module && String(e.detail ?? '').includes('2.0')));
  });

  it('the subsystem-fenced host ends on the new version, one recovery per holder within bounds', () => {
    const report = reportOf('rdma-subsystem');
    assert.equal(report.outcome, 'succeeded', report.error ?? '');
    assert.equal(report.toVersion, '2.0');
    assertRecoveries('rdma-subsystem', report);
  });

  it('the wait-scheme unbind was reported blocked at the deadline while the agent stayed responsive', () => {
    assert.ok(blockedSeen);
    assert.equal(blockedSeen.healthz, 200);
    assert.equal(blockedSeen.rolloutState, 'running');
    const report = reportOf('vfio-wait');
    const unbind = report.steps.find((s) => s.phase === 'unbind');
    assert.ok(unbind?.endedAt, JSON.stringify(report.steps));
    const blockedAfterMs = unbind.endedAt - unbind.startedAt;
    assert.ok(
      blockedAfterMs >= 1000 && blockedAfterMs < 1500,
      `reported blocked after ${blockedAfterMs} ms, deadline 1000 ms`,
    );
    assert.match(unbind.detail ?? '', /did not return within 1000 ms/);
  });

  it('the wait-scheme host names the blocking PIDs, tries nothing else, then rebinds the old driver', async () => {
    const report = reportOf('vfio-wait');
    assert.equal(report.outcome, 'failed-restored', report.error ?? '');
    assert.equal(rollouts.get('vfio-wait')!.hosts[0]!.state, 'failed-restored');
    // The default failure policy pauses the rollout for an operator to resume, abort or roll back.
    assert.equal(rollouts.get('vfio-wait')!.state, 'paused');
    const pids = scenario('vfio-wait').processes.map((p) => p.pid);
    assert.deepEqual(report.blockedUnbind?.holders.map((h) => h.pid).sort(), [...pids].sort());
    assert.match(report.error ?? '', new RegExp(`by PIDs ${pids.join(', ')}`));

    const log = await actionLog('vfio-wait');
    const kernelActions = log.filter((e) =>
      ['unbind-start', 'unbind-done', 'bind', 'load', 'unload', 'unload-refused'].includes(e.kind),
    );
    assert.deepEqual(
      kernelActions.map((e) => e.kind),
      ['unbind-start', 'unbind-done', 'bind'],
      'between the blocked unbind and its return nothing else was attempted; then the old driver was rebound',
    );
    const close = log.find((e) => e.kind === 'close');
    const done = log.find((e) => e.kind === 'unbind-done')!;
    assert.ok(close && close.t <= done.t, 'the unbind returned only after the holder closed');
    // Restored: the module that was loaded before is still the one loaded, bound to the device.
    const port = await SimKernelAdapter.connect(fleet.host(hostIds.get('vfio-wait')!).socket);
    try {
      const { module, bus } = stackOf('vfio-wait');
      assert.equal((await port.module(module))?.srcversion, report.fromSrcversion);
      assert.equal(
        (await port.device({ bus, id: scenario('vfio-wait').devices[0]!.id }))?.driver,
        stackOf('vfio-wait').driver,
      );
    } finally {
      await port.close();
    }
  });

  it('the agents export recovery, zombie, phase and outcome metrics; the controller its own', async () => {
    const misc = fleet.host(hostIds.get('misc-driver-owned')!);
    const text = await getText(`${misc.agentUrl}/metrics`);
    const host = misc.hostId;
    const holders = scenario('misc-driver-owned').processes.length;
    assert.equal(metricValue(text, 'hotswap_agent_app_recovery_seconds_count', { host, status: 'recovered' }), holders);
    assert.equal(metricValue(text, 'hotswap_agent_swaps_total', { host, outcome: 'succeeded' }), 1);
    assert.ok((metricValue(text, 'hotswap_agent_zombie_fds', { host }) ?? -1) >= holders);
    assert.ok(
      (metricValue(text, 'hotswap_agent_swap_phase_duration_seconds_count', { host, phase: 'unload' }) ?? 0) >= 1,
    );
    assert.doesNotMatch(text, /pid="/);

    const vfio = fleet.host(hostIds.get('vfio-wait')!);
    const vfioText = await getText(`${vfio.agentUrl}/metrics`);
    assert.equal(
      metricValue(vfioText, 'hotswap_agent_swaps_total', { host: vfio.hostId, outcome: 'failed-restored' }),
      1,
    );
    assert.equal(metricValue(vfioText, 'hotswap_agent_unbind_blocked', { host: vfio.hostId }), 0);

    const controller = await getText(`${fleet.controllerUrl}/metrics`);
    assert.match(controller, /^hotswap_controller_/m);
    assert.doesNotMatch(controller, /^hotswap_agent_/m);
  });

  it('the controller lists the three registered agents with fresh heartbeats', async () => {
    const hosts = await getJson<{ hostId: string; available: boolean }[]>(`${fleet.controllerUrl}/v1/hosts`);
    assert.deepEqual(hosts.map((h) => h.hostId).sort(), [...hostIds.values()].sort());
    assert.ok(hosts.every((h) => h.available));
  });
});
