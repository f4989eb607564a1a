import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SimKernelAdapter, type SimActionLogEntry } from '@hotswap/kernel';
import { SimFleet, type PrivateRedisCluster, type SimHostSpec } from '@hotswap/tools';
import { getJson, postJson, waitFor } from '../support/http.js';

/**
 * Rolling upgrades across a fleet, end to end: a private Redis, the controller, and 20 agents
 * in 4 racks, each agent on its own simulated host (two processes per host), all real
 * processes. The scenarios are generated from one template; the hosts of the second wave run
 * applications that take 2.5 s to come back. Three rollouts on the same fleet:
 *
 *  1. hs_misc 1.0 → 2.0, canary 1, maxUnavailable 4, at most 1 per rack: the second wave breaches
 *     the recovery SLO and the rollout pauses; resume finishes it. The event log never has more
 *     than 4 hosts in flight, nor 2 in one rack.
 *  2. 2.0 → 3.0 with failure policy rollback-all: a first-wave host fails to load 3.0; every host
 *     done so far goes back, and every host ends on 2.0.
 *  3. 2.0 → 3.0 again, and the controller is killed with SIGKILL mid-rollout and replaced: the
 *     rollout completes and no host was swapped twice.
 *  4. 3.0 → 2.0 with two controller replicas at once: both are seen making decisions, one is
 *     killed mid-wave, the rollout completes and no host was swapped twice.
 *
 * Swaps are counted from the simulated kernels' own action logs, not from the controller.
 * KEEP_FLEET=1 keeps the fleet's logs.
 *
 * The same checks run twice: on one private Redis, and on a private three-node Redis Cluster
 * (controller and agents given a redis+cluster:// URL), where every Lua script, MULTI and BullMQ
 * command must keep its keys in one hash slot.
 */

const HOSTS = 20;
const RACKS = 4;
const hostName = (i: number): string => `host-${String(i + 1).padStart(2, '0')}`;
const rackOf = (i: number): string => `r${(i % RACKS) + 1}`;
const ALL = Array.from({ length: HOSTS }, (_, i) => hostName(i));
const RACK = new Map(ALL.map((id, i) => [id, rackOf(i)]));

/**
 * The waves the scheduler forms (libs/rollout): hosts in (rack, id) order; the canary first, then
 * waves of at most maxUnavailable hosts with at most one per rack.
 */
function expectedWaves(): string[][] {
  const order = [...ALL].sort((a, b) => RACK.get(a)!.localeCompare(RACK.get(b)!) || a.localeCompare(b));
  const waves = [[order.shift()!]];
  while (order.length > 0) {
    const wave: string[] = [];
    for (const id of [...order]) {
      if (wave.length < RACKS && !wave.some((other) => RACK.get(other) === RACK.get(id))) wave.push(id);
    }
    waves.push(wave);
    for (const id of wave) order.splice(order.indexOf(id), 1);
  }
  return waves;
}
const WAVES = expectedWaves();
const SLOW = new Set(WAVES[2]);
/** Fails to load 3.0 once: a host of the first wave after the canary. */
const FAILING = WAVES[1]![2]!;

const TEMPLATE = `
host: {{name}}
seed: {{seed}}
timing: { unbindMs: 5, unloadMs: 10, loadMs: 20, probeMs: 10 }
modules:
  - { name: hs_misc, version: '1.0', srcversion: 5A1C0E6F3B2D49A87E10C42, file: /lib/modules/sim/hs_misc-1.0.ko }
moduleFiles:
  - { module: hs_misc, file: /lib/modules/sim/hs_misc-2.0.ko, version: '2.0', srcversion: 9F3E21B7C04D5A6E8B1F2C3, default: true }
  - { module: hs_misc, file: /lib/modules/sim/hs_misc-3.0.ko, version: '3.0', srcversion: 3C0FFEE3A1B2C3D4E5F6A7B }
drivers:
  - { name: hs_misc, module: hs_misc, bus: platform }
devices:
  - bus: platform
    id: hs_misc.0
    driver: hs_misc
    node: { path: /dev/hsmisc0, major: 240, minor: 0 }
    revoke: revoke
    fopsOwner: driver
processes:
  - comm: app
    unit: app.service
    opens: [/dev/hsmisc0]
    onError: { action: reopen, closeAfterMs: 0, reopenDelayMs: {{reopenMs}}, jitterMs: 100, retryMs: 10 }
faults: {{faults}}
`;

const LOAD_3_FAILS = '[{ kind: load-fails, module: hs_misc, file: /lib/modules/sim/hs_misc-3.0.ko, times: 1 }]';

function hostSpecs(): SimHostSpec[] {
  return ALL.map((name, i) => ({
    name,
    template: TEMPLATE,
    vars: {
      seed: String(i + 1),
      reopenMs: SLOW.has(name) ? '2500' : '200',
      faults: name === FAILING ? LOAD_3_FAILS : '[]',
    },
    labels: { rack: rackOf(i), fleet: 'waves' },
  }));
}

function runbook(name: string, version: string, spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'hotswap/v1',
    kind: 'Runbook',
    metadata: { name },
    spec: {
      modules: [{ name: 'hs_misc', target: { version } }],
      devices: { bus: 'platform', driver: 'hs_misc' },
      deadlines: { unbindSeconds: 2, zombieCloseSeconds: 5, actionSeconds: 5, recoveryWatchSeconds: 10 },
      recovery: { pollMilliseconds: 50 },
      hosts: { selector: { matchLabels: { fleet: 'waves' } } },
      strategy: { canary: 1, maxUnavailable: 4, domainCap: { label: 'rack', max: 1 } },
      slo: { percentile: 95, recoverySeconds: 1.5, maxNotRecovered: 0 },
      ...spec,
    },
  };
}

interface HostView {
  hostId: string;
  state: string;
  wave: number | null;
  labels: Record<string, string>;
  report: { outcome: string } | null;
  rollbackReport: { outcome: string } | null;
}
interface RolloutView {
  id: string;
  state: string;
  decision: { state: string; reason: string; waves: { index: number; hosts: string[]; gate?: { verdict: string } }[] };
  hosts: HostView[];
}
type LogEvent =
  | { type: 'enqueued'; at: number; hostId: string; wave: number; direction: 'forward' | 'rollback' }
  | { type: 'result'; at: number; hostId: string; direction: 'forward' | 'rollback'; outcome: string }
  | { type: 'withdrawn' | 'expired'; at: number; hostId: string }
  | { type: string; at: number; hostId?: string };

const FINAL = new Set(['succeeded', 'failed', 'aborted', 'rolled-back']);

describe('rolling upgrade of 20 simulated hosts in 4 racks', { timeout: 240_000 }, () => rollingUpgrade('single'));
describe('rolling upgrade of 20 simulated hosts in 4 racks, on a three-node Redis Cluster', { timeout: 240_000 }, () =>
  rollingUpgrade('cluster'),
);

function rollingUpgrade(redis: 'single' | 'cluster'): void {
  let fleet: SimFleet;
  let startedIn = 0;
  const memory: { agent: number[]; sim: number[] } = { agent: [], sim: [] };

  const url = (path: string): string => `${fleet.controllerUrl}${path}`;
  const view = (id: string): Promise<RolloutView> => getJson<RolloutView>(url(`/v1/rollouts/${id}`));
  const until = (id: string, what: string, ok: (v: RolloutView) => boolean, timeoutMs = 90_000) =>
    waitFor(what, timeoutMs, async () => {
      const current = await view(id);
      return ok(current) ? current : undefined;
    });
  const eventLog = async (id: string): Promise<LogEvent[]> =>
    (await getJson<{ events: LogEvent[] }>(url(`/v1/rollouts/${id}/events`))).events;

  /** Every host's action log and loaded hs_misc version, from the simulated kernels themselves. */
  async function kernels(): Promise<Map<string, { log: SimActionLogEntry[]; version: string | null }>> {
    const result = new Map<string, { log: SimActionLogEntry[]; version: string | null }>();
    for (const host of fleet.hosts) {
      const port = await SimKernelAdapter.connect(host.socket);
      try {
        result.set(host.hostId, {
          log: await port.actionLog(),
          version: (await port.module('hs_misc'))?.version ?? null,
        });
      } finally {
        await port.close();
      }
    }
    return result;
  }
  /** Swaps a host's kernel saw since `since` (ms): one unbind each. */
  const swapsSince = (log: readonly SimActionLogEntry[], since: number): number =>
    log.filter((e) => e.kind === 'unbind-start' && e.t >= since).length;

  async function create(body: object): Promise<string> {
    const created = await postJson(url('/v1/rollouts'), body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return String(created.body['id']);
  }

  before(async () => {
    const t0 = Date.now();
    fleet = await SimFleet.start({
      hosts: hostSpecs(),
      controllerEnv: { SWEEP_SECONDS: '2', LOG_LEVEL: 'info' },
      startConcurrency: 4,
      redis,
    });
    startedIn = Date.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rss = (pid: number | undefined): number =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    for (const host of fleet.hosts) {
      memory.agent.push(rss(host.agent.child.pid));
      memory.sim.push(rss(host.simHost.child.pid));
    }
  });

  after(async () => {
    await fleet?.stop(process.env['KEEP_FLEET'] === '1');
  });

  it('started 20 agents on their simulated hosts, labelled with their racks', async (t) => {
    const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1)).toFixed(0);
    t.diagnostic(
      `fleet started in ${(startedIn / 1000).toFixed(1)} s; RSS per agent ${mean(memory.agent)} MB ` +
        `(max ${Math.max(...memory.agent).toFixed(0)}), per simulated host ${mean(memory.sim)} MB`,
    );
    const hosts = await getJson<{ hostId: string; labels: Record<string, string>; available: boolean }[]>(
      url('/v1/hosts'),
    );
    assert.deepEqual(
      hosts.map((h) => [h.hostId, h.labels['rack'], h.available]),
      ALL.map((id) => [id, RACK.get(id), true]),
    );
    const one = await getJson<{ labels: Record<string, string> }>(url(`/v1/hosts/${ALL[5]}`));
    assert.deepEqual(one.labels, { rack: RACK.get(ALL[5]!), fleet: 'waves' });
  });

  it('the dry run plans a canary, then waves of 4 with one host per rack', async () => {
    const plan = await postJson(url('/v1/rollouts?dryRun=true'), runbook('waves-2-0', '2.0'));
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    const waves = plan.body['waves'] as { index: number; hosts: string[] }[];
    assert.deepEqual(
      waves.map((w) => w.hosts),
      WAVES,
    );
    assert.deepEqual(
      waves.map((w) => w.index),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal((await getJson<unknown[]>(url('/v1/rollouts'))).length, 0, 'a dry run creates nothing');
  });

  it('run 1: the second wave breaches the SLO and pauses; resume finishes; caps held throughout', async () => {
    const since = Date.now();
    const id = await create(runbook('waves-2-0', '2.0'));
    const paused = await until(
      id,
      'the SLO breach to pause the rollout',
      (v) => v.state === 'paused' || FINAL.has(v.state),
    );
    assert.equal(paused.state, 'paused', paused.decision.reason);
    assert.match(paused.decision.reason, /wave 2 gate failed: SLO breached: p95 recovery 2\.\d+ s > 1\.5 s/);
    const stateOf = (v: RolloutView, hostId: string) => v.hosts.find((h) => h.hostId === hostId)?.state;
    for (const hostId of WAVES.slice(0, 3).flat()) assert.equal(stateOf(paused, hostId), 'succeeded', hostId);
    for (const hostId of WAVES.slice(3).flat()) assert.equal(stateOf(paused, hostId), 'pending', hostId);
    assert.deepEqual(
      paused.decision.waves.slice(0, 3).map((w) => w.gate?.verdict),
      ['pass', 'pass', 'fail'],
    );

    const resumed = await postJson(url(`/v1/rollouts/${id}/resume`), {});
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    const done = await until(id, 'the rollout to finish', (v) => FINAL.has(v.state));
    assert.equal(done.state, 'succeeded', done.decision.reason);
    assert.deepEqual(
      done.hosts.map((h) => [h.hostId, h.state, h.wave]),
      ALL.map((hostId) => [hostId, 'succeeded', WAVES.findIndex((w) => w.includes(hostId))]),
    );

    const log = await eventLog(id);
    assertCaps(log);
    const started = log.filter((e) => e.type === 'enqueued');
    assert.equal(started.length, HOSTS, 'each host started once');

    const seen = await kernels();
    for (const [hostId, { log: actions, version }] of seen) {
      assert.equal(swapsSince(actions, since), 1, `${hostId} swapped once`);
      assert.equal(version, '2.0', hostId);
    }
  });

  it('run 2: rollback-all, a host fails to load 3.0, and every host ends back on 2.0', async () => {
    const since = Date.now();
    const id = await create(runbook('waves-3-0-rollback', '3.0', { failurePolicy: 'rollback-all' }));
    const done = await until(id, 'the rollback to finish', (v) => FINAL.has(v.state));
    assert.equal(done.state, 'rolled-back', done.decision.reason);
    assert.match(done.decision.reason, new RegExp(`host ${FAILING} failed \\(failed-restored\\)`));
    const log = await eventLog(id);
    assertCaps(log);

    const seen = await kernels();
    const byState = new Map(done.hosts.map((h) => [h.hostId, h.state]));
    for (const [hostId, { log: actions, version }] of seen) {
      assert.equal(version, '2.0', `${hostId} is back on the old version`);
      const swaps = swapsSince(actions, since);
      // Touched hosts went forward and back; the failing one restored 2.0 itself, so its rollback
      // found it on 2.0 already and did nothing; the others were never touched.
      if (hostId === FAILING) assert.equal(swaps, 1, `${hostId}: the failed attempt only`);
      else if (byState.get(hostId) === 'rolled-back') assert.equal(swaps, 2, `${hostId}: forward and back`);
      else assert.deepEqual([byState.get(hostId), swaps], ['pending', 0], hostId);
    }
    const failing = done.hosts.find((h) => h.hostId === FAILING);
    assert.deepEqual(
      [failing?.state, failing?.report?.outcome, failing?.rollbackReport?.outcome],
      ['rolled-back', 'failed-restored', 'skipped'],
    );
    assert.equal(byState.get(WAVES[0]![0]!), 'rolled-back', 'the canary went back too');
    const failedLoad = seen.get(FAILING)!.log.filter((e) => e.kind === 'load-failed' && e.t >= since);
    assert.equal(failedLoad.length, 1);
    // Rollbacks ran under the same caps: waves of rollbacks, latest first, canary last.
    const rollbacks = log.filter((e) => e.type === 'enqueued' && 'direction' in e && e.direction === 'rollback');
    assert.equal(rollbacks.at(-1)?.hostId, WAVES[0]![0]);
  });

  it('run 3: the controller is killed mid-rollout and replaced; the rollout completes, no host swapped twice', async () => {
    const since = Date.now();
    const id = await create(runbook('waves-3-0', '3.0', { slo: { percentile: 95, recoverySeconds: 10 } }));
    await until(id, 'the first wave to be in flight', (v) =>
      v.hosts.some((h) => h.wave === 1 && (h.state === 'running' || h.state === 'succeeded')),
    );
    const killedAt = Date.now();
    await fleet.replaceController();
    const done = await until(id, 'the rollout to finish', (v) => FINAL.has(v.state), 120_000);
    assert.equal(done.state, 'succeeded', done.decision.reason);
    const log = await eventLog(id);
    assertCaps(log);
    assert.ok(
      log.some((e) => e.type === 'enqueued' && e.at > killedAt),
      'the new controller started hosts after the kill',
    );
    const seen = await kernels();
    for (const [hostId, { log: actions, version }] of seen) {
      assert.equal(swapsSince(actions, since), 1, `${hostId} swapped exactly once`);
      assert.equal(actions.filter((e) => e.kind === 'load' && e.t >= since).length, 1, `${hostId} loaded once`);
      assert.equal(version, '3.0', hostId);
    }
  });

  it('run 4: two controller replicas share the rollout; one is killed mid-wave; no host swapped twice', async (t) => {
    const since = Date.now();
    const replica = await fleet.startController('replica');
    // Smaller waves with a pause between them: the rollout lasts long enough for both replicas
    // to decide and for one to be killed while a wave is in flight, however loaded the machine.
    const id = await create(
      runbook('waves-2-0-replicas', '2.0', {
        slo: { percentile: 95, recoverySeconds: 10 },
        strategy: { canary: 1, maxUnavailable: 2, domainCap: { label: 'rack', max: 1 }, pauseBetweenWavesSeconds: 1 },
      }),
    );
    /** Decisions a replica wrote for this rollout (its log at level info). */
    const decisions = (logFile: string): number =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(
          (line) => line.includes(`"rolloutId":"${id}"`) && /"msg":"(hosts started|wave gate evaluated)"/.test(line),
        ).length;
    const both = await waitFor('both replicas to make decisions', 60_000, async () => {
      const counts = [decisions(fleet.controller.logFile), decisions(replica.logFile)];
      return counts.every((n) => n > 0) ? counts : undefined;
    });
    const inFlight = await until(
      id,
      'a wave in flight',
      (v) => v.hosts.some((h) => h.state === 'queued' || h.state === 'running') || FINAL.has(v.state),
    );
    assert.ok(!FINAL.has(inFlight.state), 'the rollout ended before a replica could be killed mid-wave');
    t.diagnostic(`decisions written before the kill: first controller ${both[0]}, replica ${both[1]}`);
    await replica.kill();
    const done = await until(id, 'the rollout to finish', (v) => FINAL.has(v.state), 120_000);
    assert.equal(done.state, 'succeeded', done.decision.reason);
    assertCaps(await eventLog(id), 2);
    const seen = await kernels();
    for (const [hostId, { log: actions, version }] of seen) {
      assert.equal(swapsSince(actions, since), 1, `${hostId} swapped exactly once`);
      assert.equal(version, '2.0', hostId);
    }
    assert.ok(
      both.every((n) => n > 0),
      `decisions per replica before the kill: ${both.join(', ')}`,
    );
  });

  // Only the cluster suite has this test: a single Redis has nothing to spread.
  if (redis === 'cluster') {
    it('the cluster spread the keys over its three nodes', (t) => {
      const nodes = (fleet.redis as Partial<PrivateRedisCluster>).nodes ?? [];
      const keys = nodes.map(({ port }) =>
        Number(execFileSync('redis-cli', ['-p', String(port), 'dbsize'], { encoding: 'utf8' })),
      );
      t.diagnostic(`keys per node: ${keys.join(', ')}`);
      assert.equal(keys.length, 3);
      assert.ok(
        keys.every((n) => n > 0),
        `every node holds keys: ${keys.join(', ')}`,
      );
    });
  }
}

/**
 * Replays the event log: never more than maxUnavailable hosts in flight (enqueued, no result, not withdrawn),
 * never 2 in one rack, never a host enqueued while in flight.
 */
function assertCaps(log: readonly LogEvent[], maxUnavailable = 4): void {
  const flying = new Map<string, string>();
  let peak = 0;
  for (const event of log) {
    if (event.type === 'enqueued' && 'direction' in event && event.hostId) {
      assert.ok(!flying.has(event.hostId), `${event.hostId} enqueued while in flight`);
      flying.set(event.hostId, event.direction);
      const rack = RACK.get(event.hostId);
      const inRack = [...flying.keys()].filter((id) => RACK.get(id) === rack);
      assert.ok(inRack.length <= 1, `rack ${rack} had ${inRack.join(', ')} in flight at once`);
      assert.ok(flying.size <= maxUnavailable, `${flying.size} hosts in flight: ${[...flying.keys()].join(', ')}`);
      peak = Math.max(peak, flying.size);
    } else if ((event.type === 'withdrawn' || event.type === 'expired') && event.hostId) {
      flying.delete(event.hostId);
    } else if (event.type === 'result' && 'direction' in event && event.hostId) {
      if (flying.get(event.hostId) === event.direction) flying.delete(event.hostId);
    }
  }
  assert.ok(peak >= Math.min(3, maxUnavailable), `the waves ran in parallel (peak ${peak} in flight)`);
}
