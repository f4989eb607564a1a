import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HostCensus, ModuleVersion } from '@hotswap/contracts';
import { SimKernelAdapter } from '@hotswap/kernel';
import { SimFleet, controllerToken, paths } from '@hotswap/tools';
import { getJson, getText, metricValue, postJson, waitFor } from '../support/http.js';
import { simMiscRunbook } from '../support/sim-misc.runbook.js';

/**
 * The hosts API and the live census, end to end: a private Redis, the controller and three
 * agents as real processes on simulated hosts, over real HTTP.
 *  - GET /v1/hosts shows the versions of the modules the runbooks name, from the heartbeats;
 *  - GET /v1/hosts/:id/holders asks the agent over its census queue: devices, module stack in
 *    unload order, holders, resolved targets; bad input is a 400; a host whose agent is gone a
 *    504 within the deadline;
 *  - a dry run carries each host's census (or marks the host that did not answer), and skips a
 *    host already on the target; so does the scheduler, without starting a swap there;
 *  - the agent's module refcount gauge and the controller's queue depth and pickup latency.
 */
const CENSUS_TIMEOUT_MS = 1500;
const scenario = (name: string): string => join(paths.scenarios, `${name}.yaml`);

interface HostListItem {
  hostId: string;
  modules: ModuleVersion[];
}
interface PlannedHost {
  hostId: string;
  onTarget: boolean | null;
  census: { status: string; census?: HostCensus; deadlineMs?: number };
}

/** A GET whose status matters (getJson throws on anything but 2xx). */
async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = controllerToken(url);
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('hosts API: module versions, live census, dry run and skips', { timeout: 180_000 }, () => {
  let fleet: SimFleet;
  let api = '';

  before(async () => {
    fleet = await SimFleet.start({
      scenarios: [scenario('misc-driver-owned'), scenario('rdma-subsystem'), scenario('vfio-wait')],
      controllerEnv: { CENSUS_TIMEOUT_MS: String(CENSUS_TIMEOUT_MS), SWEEP_SECONDS: '1' },
    });
    api = `${fleet.controllerUrl}/v1`;
    // The vfio host's agent is gone: its registry entry stays, nobody answers its queue.
    await fleet.host('sim-vfio').agent.kill();
  });

  after(async () => {
    await fleet?.stop(process.env['KEEP_FLEET'] === '1');
  });

  it('GET /v1/hosts shows the versions of the modules a stored runbook names', async () => {
    const stored = await postJson(`${api}/runbooks`, simMiscRunbook('misc-census', ['sim-misc']));
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    const hosts = await waitFor('the next heartbeats to report hs_misc', 10_000, async () => {
      const all = await getJson<HostListItem[]>(`${api}/hosts`);
      const reported = (id: string) => all.find((h) => h.hostId === id)?.modules.some((m) => m.name === 'hs_misc');
      return reported('sim-misc') && reported('sim-rdma') ? all : undefined;
    });
    const hsMisc = (id: string) => hosts.find((h) => h.hostId === id)?.modules.find((m) => m.name === 'hs_misc');
    assert.deepEqual(hsMisc('sim-misc'), {
      name: 'hs_misc',
      loaded: true,
      version: '1.0',
      srcversion: '5A1C0E6F3B2D49A87E10C42',
    });
    assert.equal(hsMisc('sim-rdma')?.loaded, false, 'watched, not loaded there');
  });

  it('GET /v1/hosts/:id/holders: devices, the stack in unload order, holders, and the target resolved', async () => {
    const rdma = await get(`${api}/hosts/sim-rdma/holders?bus=pci&driver=hs_rdma&modules=hs_ib_core`);
    assert.equal(rdma.status, 200, JSON.stringify(rdma.body));
    const census = rdma.body as unknown as HostCensus;
    assert.deepEqual(
      census.devices.map((d) => `${d.bus}/${d.id}@${d.driver}`),
      ['pci/0000:03:00.0@hs_rdma'],
    );
    assert.deepEqual(
      census.modules.map((m) => m.name),
      ['hs_rdma', 'hs_ib_core'],
      'hs_rdma depends on hs_ib_core: it unloads first',
    );
    assert.deepEqual(census.modules[1]?.holders, ['hs_rdma']);
    assert.deepEqual(census.holders.map((h) => h.comm).sort(), ['rdma-fast', 'rdma-slow']);
    assert.equal(census.holders.find((h) => h.comm === 'rdma-fast')?.mappings, 1);
    assert.deepEqual(census.targets, [], 'no target asked for');

    const misc = await get(`${api}/hosts/sim-misc/holders?runbook=misc-census`);
    assert.equal(misc.status, 200, JSON.stringify(misc.body));
    const fromRunbook = misc.body as unknown as HostCensus;
    assert.deepEqual(fromRunbook.targets, [
      {
        module: 'hs_misc',
        file: '/lib/modules/sim/hs_misc-2.0.ko',
        version: '2.0',
        srcversion: '9F3E21B7C04D5A6E8B1F2C3',
      },
    ]);
    assert.equal(fromRunbook.modules[0]?.refcnt, 2, 'one reference per open file: the driver owns the fops');
  });

  it('refuses bad input with a 400 naming the parameter, and unknown hosts or runbooks with a 404', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['sim-misc/holders?bus=plat/form&driver=hs_misc', 400, 'INVALID_QUERY', /^bus: /],
      ['sim-misc/holders?bus=platform&driver=hs_misc&modules=a,b%20c', 400, 'INVALID_QUERY', /^modules: /],
      ['sim-misc/holders?driver=hs_misc', 400, 'INVALID_QUERY', /bus and driver/],
      ['sim-misc/holders?runbook=misc-census&bus=pci', 400, 'INVALID_QUERY', /either runbook or bus/],
      ['sim-misc/holders?bus=pci&driver=x&pid=1', 400, 'INVALID_QUERY', /unknown query parameter\(s\) pid/],
      ['sim-misc/holders?bus=pci&bus=usb&driver=x', 400, 'INVALID_QUERY', /bus must be given once/],
      ['no-such-host/holders?bus=pci&driver=x', 404, 'HOST_NOT_FOUND', /no-such-host/],
      ['sim-misc/holders?runbook=nope', 404, 'RUNBOOK_NOT_FOUND', /nope/],
    ];
    for (const [path, status, code, message] of cases) {
      const answer = await get(`${api}/hosts/${path}`);
      assert.equal(answer.status, status, `${path}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body['error'], code, path);
      assert.match(String(answer.body['message']), message, path);
    }
  });

  it('a host whose agent does not answer gets a 504 within the deadline', async () => {
    const started = Date.now();
    const answer = await get(`${api}/hosts/sim-vfio/holders?bus=pci&driver=vfio-pci`);
    const took = Date.now() - started;
    assert.equal(answer.status, 504, JSON.stringify(answer.body));
    assert.equal(answer.body['error'], 'HOST_CENSUS_TIMEOUT');
    assert.equal(answer.body['pickedUp'], false);
    assert.match(String(answer.body['message']), /did not answer within 1500 ms: no agent took the census/);
    assert.ok(took >= CENSUS_TIMEOUT_MS && took < CENSUS_TIMEOUT_MS + 2000, `answered after ${took} ms`);
  });

  it('a dry run carries every host census and marks the host that did not answer', async () => {
    const runbook = simMiscRunbook('misc-plan', ['sim-misc', 'sim-vfio']);
    const plan = await postJson(`${api}/rollouts?dryRun=true`, runbook);
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    const hosts = plan.body['hosts'] as PlannedHost[];
    const misc = hosts.find((h) => h.hostId === 'sim-misc');
    const vfio = hosts.find((h) => h.hostId === 'sim-vfio');
    assert.equal(misc?.census.status, 'answered');
    assert.deepEqual(misc?.census.census?.holders.map((h) => h.comm).sort(), ['app-fast', 'app-slow']);
    assert.equal(misc?.onTarget, false, 'hs_misc 1.0 loaded, target 2.0');
    assert.deepEqual(vfio?.census, { status: 'no-answer', deadlineMs: CENSUS_TIMEOUT_MS, pickedUp: false });
    assert.deepEqual(plan.body['skipped'], []);
  });

  it('after a swap, the host list shows the new version, and the dry run and the scheduler skip the host', async () => {
    const created = await postJson(`${api}/rollouts`, simMiscRunbook('misc-up', ['sim-misc']));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const done = await waitFor('the swap to finish', 60_000, async () => {
      const view = await getJson<{ state: string }>(`${api}/rollouts/${String(created.body['id'])}`);
      return view.state === 'running' ? undefined : view.state;
    });
    assert.equal(done, 'succeeded');
    await waitFor('a heartbeat with hs_misc 2.0', 10_000, async () => {
      const hosts = await getJson<HostListItem[]>(`${api}/hosts`);
      const misc = hosts.find((h) => h.hostId === 'sim-misc')?.modules.find((m) => m.name === 'hs_misc');
      return misc?.version === '2.0' && misc.srcversion === '9F3E21B7C04D5A6E8B1F2C3' ? true : undefined;
    });

    const plan = await postJson(`${api}/rollouts?dryRun=true`, simMiscRunbook('misc-again', ['sim-misc']));
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    assert.deepEqual(plan.body['skipped'], ['sim-misc']);
    assert.equal((plan.body['hosts'] as PlannedHost[])[0]?.onTarget, true, 'same srcversion as the resolved target');

    const port = await SimKernelAdapter.connect(fleet.host('sim-misc').socket);
    try {
      const unbindsBefore = (await port.actionLog()).filter((e) => e.kind === 'unbind-start').length;
      const again = await postJson(`${api}/rollouts`, simMiscRunbook('misc-again', ['sim-misc']));
      assert.equal(again.status, 201, JSON.stringify(again.body));
      const view = await waitFor('the second rollout to end', 30_000, async () => {
        const v = await getJson<{ state: string; hosts: { hostId: string; state: string }[] }>(
          `${api}/rollouts/${String(again.body['id'])}`,
        );
        return v.state === 'running' ? undefined : v;
      });
      assert.equal(view.state, 'succeeded');
      assert.deepEqual(view.hosts, [{ ...view.hosts[0], hostId: 'sim-misc', state: 'skipped' }]);
      const unbindsAfter = (await port.actionLog()).filter((e) => e.kind === 'unbind-start').length;
      assert.equal(unbindsAfter, unbindsBefore, 'no swap was started on a host already on the target');
    } finally {
      await port.close();
    }
  });

  it('metrics: the agent module refcount, the controller queue depth and pickup latency', async () => {
    const agent = await getText(`${fleet.host('sim-misc').agentUrl}/metrics`);
    assert.equal(metricValue(agent, 'hotswap_agent_module_refcount', { host: 'sim-misc', module: 'hs_misc' }), 2);
    const rdmaAgent = await getText(`${fleet.host('sim-rdma').agentUrl}/metrics`);
    assert.equal(
      metricValue(rdmaAgent, 'hotswap_agent_module_refcount', { host: 'sim-rdma' }),
      undefined,
      'no series for a module the host has not loaded',
    );
    const controller = await getText(`${fleet.controllerUrl}/metrics`);
    for (const state of ['waiting', 'active', 'delayed']) {
      assert.equal(metricValue(controller, 'hotswap_controller_swap_queue_jobs', { host: 'sim-misc', state }), 0);
    }
    assert.equal(
      metricValue(controller, 'hotswap_controller_job_pickup_seconds_count', { queue: 'swaps' }),
      2,
      // The second rollout's job is taken too: from heartbeats alone the scheduler cannot tell a
      // module with a srcversion is on a version target (a rebuild keeps the version); the
      // agent resolves the target and reports the host skipped, with no kernel action.
      'two swap jobs were taken: the swap and the second rollout, skipped by the agent',
    );
    assert.ok(
      (metricValue(controller, 'hotswap_controller_job_pickup_seconds_count', { queue: 'census' }) ?? 0) >= 3,
      'every answered census',
    );
    assert.ok((metricValue(controller, 'hotswap_controller_job_pickup_seconds_sum', { queue: 'swaps' }) ?? 99) < 5);
  });
});
