import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVENT_RESULT, JOB_SWAP, swapJobId, swapJobSchema } from '@hotswap/contracts';
import type { RolloutEvent } from '@hotswap/rollout';
import { startPrivateRedis, type FleetProcess, type PrivateRedis } from '@hotswap/tools';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type {
  HostDetail,
  RegisteredHost,
  RolloutListItem,
  RolloutPlan,
  RolloutView,
  RunbookListItem,
  StoredRunbook,
} from '../src/index.js';
import {
  ControllerClient,
  eventQueue,
  heartbeat,
  metric,
  postResult,
  postStep,
  startController,
  swapQueue,
  takeSwapJob,
  waitFor,
} from './controller-harness.js';
import { runbookBody } from './fixtures.js';

/**
 * The controller as a real process over real HTTP, against a private Redis. The test plays
 * the agents: it registers hosts the way their heartbeats do, takes each swap job from the
 * host's own queue with a BullMQ Worker, and answers on the event queue as an agent would.
 * Set KEEP_CONTROLLER_LOG=1 to keep the controller's log (its path is printed).
 */

const run = randomUUID().slice(0, 8);
const hostA = `it-${run}-a`;
const hostB = `it-${run}-b`;
/** Three GPU hosts in two racks, for label selectors and waves. */
const gpu = [`it-${run}-g1`, `it-${run}-g2`, `it-${run}-g3`];
const gpuRack: Record<string, string> = { [gpu[0]!]: 'r1', [gpu[1]!]: 'r2', [gpu[2]!]: 'r1' };

let redis: PrivateRedis;
let client: Redis;
let controller: FleetProcess;
let api: ControllerClient;
let logDir = '';
let events: Queue;
const closers: (() => Promise<unknown>)[] = [];
let heartbeats: NodeJS.Timeout | undefined;

const rollout = (id: string): Promise<RolloutView> => api.get<RolloutView>(`/v1/rollouts/${id}`);
const rolloutWhere = (id: string, what: string, ok: (view: RolloutView) => boolean, timeoutMs?: number) =>
  waitFor(
    what,
    async () => {
      const view = await rollout(id);
      return ok(view) ? view : undefined;
    },
    timeoutMs,
  );
const eventLog = async (id: string): Promise<RolloutEvent[]> =>
  (await api.get<{ events: RolloutEvent[] }>(`/v1/rollouts/${id}/events`)).events;
const stateOf = (view: RolloutView, hostId: string): string | undefined =>
  view.hosts.find((h) => h.hostId === hostId)?.state;
const queueOf = (hostId: string): Queue => {
  const queue = swapQueue(client, hostId);
  closers.push(() => queue.close());
  return queue;
};

/** Takes the host's job and answers it at once with `outcome`. */
async function agentRuns(hostId: string, outcome: 'succeeded' | 'failed-restored' | 'skipped' = 'succeeded') {
  const job = await takeSwapJob(client, hostId);
  await postResult(events, job.data, String(job.id), outcome, [['recovered', 0.2]]);
  return job;
}

describe('controller: a real process over HTTP, with a private Redis', { timeout: 120_000 }, () => {
  before(async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    events = eventQueue(client);
    logDir = mkdtempSync(join(tmpdir(), 'hotswap-controller-test-'));
    controller = await startController(redis.url, logDir);
    api = new ControllerClient(String(controller.ready['url']));
    const beat = async () => {
      await heartbeat(client, hostA, { rack: 'r1' });
      await heartbeat(client, hostB, { rack: 'r2' });
      for (const id of gpu) await heartbeat(client, id, { rack: gpuRack[id]!, pool: `gpu-${run}` });
    };
    await beat();
    heartbeats = setInterval(() => void beat().catch(() => undefined), 1000);
  });

  after(async () => {
    clearInterval(heartbeats);
    // Every step runs, whatever failed before it.
    for (const close of [
      () => controller?.stop(),
      ...closers,
      () => events?.close(),
      async () => client?.disconnect(),
      () => redis?.stop(),
    ]) {
      await close().catch((error: Error) => process.stderr.write(`cleanup: ${error.message}\n`));
    }
    if (process.env['KEEP_CONTROLLER_LOG'] === '1') process.stderr.write(`controller log: ${logDir}/controller.log\n`);
    else if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  it('announced itself with one JSON line and answers /healthz', async () => {
    assert.deepEqual(Object.keys(controller.ready).sort(), ['msg', 'url']);
    assert.equal(controller.ready['msg'], 'controller listening');
    assert.match(api.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await api.http('GET', '/healthz'), { status: 200, body: { status: 'ok', redis: 'up' } });
  });

  it('lists the registered hosts from the heartbeat registry, and shows one with its labels', async () => {
    const { status, body } = await api.http<RegisteredHost[]>('GET', '/v1/hosts');
    assert.equal(status, 200);
    const hosts = body.filter((h) => h.hostId === hostA || h.hostId === hostB);
    assert.deepEqual(
      hosts.map((h) => [h.hostId, h.available, h.labels['rack'], h.kernel, h.busy]),
      [
        [hostA, true, 'r1', '6.8.0-test', false],
        [hostB, true, 'r2', '6.8.0-test', false],
      ],
    );
    const one = await api.http<HostDetail>('GET', `/v1/hosts/${gpu[1]}`);
    assert.equal(one.status, 200);
    assert.deepEqual(
      [one.body.hostId, one.body.labels, one.body.rollout],
      [gpu[1], { rack: 'r2', pool: `gpu-${run}` }, null],
    );
    const missing = await api.http('GET', `/v1/hosts/it-${run}-nobody`);
    assert.deepEqual([missing.status, missing.body.error], [404, 'HOST_NOT_FOUND']);
  });

  it('refuses an invalid runbook with 400 and the paths of the issues', async () => {
    const body = runbookBody('bad-one', [hostA]);
    const spec = body['spec'] as Record<string, unknown>;
    delete spec['devices'];
    spec['modules'] = [{ name: 'hs_misc', target: { version: '2.0', fil: '/x.ko' } }];
    const { status, body: error } = await api.http('POST', '/v1/rollouts', body);
    assert.equal(status, 400);
    assert.equal(error.error, 'RUNBOOK_INVALID');
    const paths = (error.issues ?? []).map((i) => i.path).sort();
    assert.deepEqual(paths, ['spec.devices', 'spec.modules[0].target.fil']);
  });

  it('refuses invalid YAML runbooks with the line and column of each issue', async () => {
    const yaml = [
      'apiVersion: hotswap/v1',
      'kind: Runbook',
      'metadata:',
      '  name: yaml-bad',
      'spec:',
      '  modules:',
      '    - name: hs_misc',
      '      target: { version: "2.0" }',
      '  devices: { bus: platform, driver: hs_misc }',
      '  deadlines:',
      '    unbindSeconds: -1',
      `  hosts: { names: [${hostA}] }`,
    ].join('\n');
    const { status, body } = await api.http('POST', '/v1/rollouts', yaml, 'application/yaml');
    assert.equal(status, 400);
    assert.equal(body.error, 'RUNBOOK_INVALID');
    assert.deepEqual(
      (body.issues ?? []).map((i) => [i.path, i.line]),
      [['spec.deadlines.unbindSeconds', 11]],
    );
    const syntax = await api.http('POST', '/v1/rollouts', 'spec:\n  modules: [\n', 'text/yaml');
    assert.equal(syntax.status, 400);
    assert.ok(syntax.body.issues?.length);
    assert.ok(syntax.body.issues.every((i) => typeof i.line === 'number'));
  });

  it('refuses a runbook without hosts, with hosts no agent registered, or a selector matching none', async () => {
    const noHosts = runbookBody('no-hosts', []);
    delete (noHosts['spec'] as Record<string, unknown>)['hosts'];
    const missing = await api.http('POST', '/v1/rollouts', noHosts);
    assert.equal(missing.status, 400);
    assert.deepEqual(
      (missing.body.issues ?? []).map((i) => i.path),
      ['spec.hosts'],
    );

    const ghost = `it-${run}-ghost`;
    const unknown = await api.http('POST', '/v1/rollouts', runbookBody('ghosts', [hostA, ghost]));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'HOSTS_NOT_REGISTERED');
    assert.deepEqual(unknown.body.hosts, [ghost]);
    assert.match(unknown.body.message ?? '', new RegExp(ghost));

    const nobody = runbookBody('nobody', []);
    (nobody['spec'] as Record<string, unknown>)['hosts'] = { selector: { matchLabels: { pool: 'nowhere' } } };
    const none = await api.http('POST', '/v1/rollouts?dryRun=true', nobody);
    assert.equal(none.status, 400);
    assert.equal(none.body.error, 'SELECTOR_MATCHES_NO_HOSTS');
    assert.match(none.body.message ?? '', /pool=nowhere.*matches none/);
  });

  it('answers errors with a stable code', async () => {
    assert.deepEqual((await api.http('GET', '/v1/rollouts/r-doesnotexist')).body.error, 'ROLLOUT_NOT_FOUND');
    assert.equal((await api.http('GET', '/v1/rollouts/r-doesnotexist')).status, 404);
    assert.equal((await api.http('POST', '/v1/rollouts/r-doesnotexist/pause')).status, 404);
    assert.equal(
      (await api.http('POST', '/v1/rollouts', '{"apiVersion":', 'application/json')).body.error,
      'BAD_REQUEST',
    );
    assert.equal((await api.http('POST', '/v1/rollouts', 'hello', 'text/plain')).status, 415);
    assert.equal((await api.http('POST', '/v1/rollouts', { runbook: 7 })).body.error, 'REQUEST_INVALID');
    assert.equal((await api.http('POST', '/v1/rollouts', { runbook: 'nope' })).body.error, 'RUNBOOK_NOT_FOUND');
    assert.equal((await api.http('POST', '/v1/rollouts?dryRun=maybe', runbookBody('x', [hostA]))).status, 400);
    assert.equal((await api.http('GET', '/v1/nothing-here')).body.error, 'NOT_FOUND');
  });

  let succeededId = '';

  it('runs a rollout canary first, then the next host, as the agents report, and ends succeeded', async () => {
    const created = await api.http<RolloutView>('POST', '/v1/rollouts', runbookBody('two-hosts', [hostA, hostB]));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const view = created.body;
    succeededId = view.id;
    assert.match(view.id, /^r-[a-z0-9]+$/);
    assert.equal(view.name, 'two-hosts');
    assert.equal(view.state, 'running');
    assert.deepEqual(view.modules, [{ name: 'hs_misc', target: { version: '2.0', params: [] } }]);
    assert.deepEqual(
      view.hosts.map((h) => [h.hostId, h.state, h.wave]),
      [
        [hostA, 'queued', 0],
        [hostB, 'pending', null],
      ],
    );
    assert.equal(view.decision.state, 'running');
    assert.deepEqual(
      view.decision.waves.map((w) => [w.index, w.kind, w.hosts]),
      [
        [0, 'canary', [hostA]],
        [1, 'wave', [hostB]],
      ],
    );
    assert.equal(view.eventCount, 2, 'started, enqueued');
    assert.equal((await api.get<HostDetail>(`/v1/hosts/${hostB}`)).rollout, view.id);

    // Host A's agent: the job is on A's own queue, with the contract's payload.
    const jobA = await takeSwapJob(client, hostA);
    assert.equal(jobA.name, JOB_SWAP);
    assert.equal(jobA.id, swapJobId(view.id, hostA, 'forward'));
    const payload = swapJobSchema.parse(jobA.data);
    assert.equal(payload.v, 1);
    assert.equal(payload.rolloutId, view.id);
    assert.equal(payload.hostId, hostA);
    assert.equal(payload.direction, 'forward');
    assert.equal((payload.runbook as { metadata: { name: string } }).metadata.name, 'two-hosts');
    // Defaults applied: the agent gets the validated runbook, not the raw body.
    assert.equal(
      (payload.runbook as { spec: { deadlines: { unbindSeconds: number } } }).spec.deadlines.unbindSeconds,
      30,
    );
    assert.equal(payload.notAfter - payload.enqueuedAt, 3600 * 1000);
    assert.ok(Math.abs(payload.enqueuedAt - Date.now()) < 10_000);

    const swapA = String(jobA.id);
    await postStep(events, payload, swapA, 'preflight', 'completed');
    await postStep(events, payload, swapA, 'unbind', 'blocked', 'unbind did not return within 1000 ms');
    const running = await rolloutWhere(view.id, 'host A running with 2 steps', (v) => v.hosts[0]?.steps.length === 2);
    assert.equal(running.hosts[0]?.state, 'running');
    assert.deepEqual(
      running.hosts[0]?.steps.map((s) => [s.phase, s.status, s.detail, s.direction]),
      [
        ['preflight', 'completed', undefined, 'forward'],
        ['unbind', 'blocked', 'unbind did not return within 1000 ms', 'forward'],
      ],
    );
    assert.equal(running.state, 'running');

    await postResult(events, payload, swapA, 'succeeded', [
      ['recovered', 0.5],
      ['recovered', 1.5],
    ]);
    // The same result again (a redelivery with another job id): recorded once only.
    await postResult(events, payload, swapA, 'succeeded', [['recovered', 9]]);
    const second = await rolloutWhere(view.id, 'host B queued', (v) => v.hosts[1]?.state === 'queued');
    assert.equal(second.hosts[0]?.state, 'succeeded');
    assert.equal(second.hosts[0]?.report?.outcome, 'succeeded');
    assert.equal(second.hosts[0]?.recoveries.length, 2);
    assert.equal(second.decision.waves[0]?.gate?.verdict, 'pass');

    // Host B's agent.
    const jobB = await takeSwapJob(client, hostB);
    assert.equal(jobB.id, swapJobId(view.id, hostB, 'forward'));
    await postStep(events, jobB.data, String(jobB.id), 'preflight', 'started');
    await postResult(events, jobB.data, String(jobB.id), 'skipped');
    const done = await rolloutWhere(view.id, 'rollout to end', (v) => v.state === 'succeeded');
    assert.deepEqual(
      done.hosts.map((h) => h.state),
      ['succeeded', 'skipped'],
    );
    assert.deepEqual(done.summary, {
      hostsTotal: 2,
      hostsDone: 2,
      hostsRolledBack: 0,
      recoveries: 2,
      recoveryP50Seconds: 0.5,
      recoveryMaxSeconds: 1.5,
      notRecovered: 0,
    });
    assert.ok(done.finishedAt !== null && done.finishedAt >= done.createdAt);
    const log = await eventLog(view.id);
    assert.deepEqual(
      log.map((e) => e.type),
      ['started', 'enqueued', 'result', 'gate-evaluated', 'enqueued', 'result', 'gate-evaluated'],
    );
    // Finished: the hosts are free again.
    assert.equal((await api.get<HostDetail>(`/v1/hosts/${hostB}`)).rollout, null);
  });

  let abortedId = '';

  it('a failed host pauses the rollout (policy pause); a conflicting rollout is refused; abort ends it', async () => {
    const created = await api.http('POST', '/v1/rollouts', runbookBody('fails-first', [hostB, hostA]));
    assert.equal(created.status, 201);
    abortedId = created.body.id ?? '';
    // Ordered by host id: A is the canary.
    await agentRuns(hostA, 'failed-restored');
    const paused = await rolloutWhere(abortedId, 'rollout to pause', (v) => v.state === 'paused');
    assert.match(paused.decision.reason, /failed \(failed-restored\): paused/);
    assert.deepEqual(
      paused.hosts.map((h) => [h.hostId, h.state]),
      [
        [hostB, 'pending'],
        [hostA, 'failed-restored'],
      ],
    );
    assert.equal(await queueOf(hostB).getJob(swapJobId(abortedId, hostB, 'forward')), undefined);

    const conflict = await api.http('POST', '/v1/rollouts', runbookBody('wants-b', [hostB]));
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error, 'ROLLOUT_HOST_CONFLICT');
    assert.equal(conflict.body.rolloutId, abortedId);
    assert.deepEqual(conflict.body.hosts, [hostB]);
    assert.match(conflict.body.message ?? '', new RegExp(`${hostB}.*rollout ${abortedId} \\(paused\\)`));
    const conflictPlan = await api.http('POST', '/v1/rollouts?dryRun=true', runbookBody('wants-b', [hostB]));
    assert.equal(conflictPlan.status, 409);

    const pauseAgain = await api.http('POST', `/v1/rollouts/${abortedId}/pause`);
    assert.deepEqual([pauseAgain.status, pauseAgain.body.error], [409, 'ROLLOUT_COMMAND_NOT_APPLICABLE']);
    assert.match(pauseAgain.body.message ?? '', /it is paused \(it is paused already\)/);

    const aborted = await api.http<RolloutView>('POST', `/v1/rollouts/${abortedId}/abort`);
    assert.equal(aborted.status, 200);
    assert.equal(aborted.body.state, 'aborted');
    const resume = await api.http('POST', `/v1/rollouts/${abortedId}/resume`);
    assert.deepEqual([resume.status, resume.body.state], [409, 'aborted']);
    assert.match(resume.body.message ?? '', /it is aborted \(it has finished\)/);
  });

  it('stores runbooks by name, bumping the revision on each replacement', async () => {
    const yaml = [
      'apiVersion: hotswap/v1',
      'kind: Runbook',
      'metadata:',
      `  name: gpu-${run}`,
      'spec:',
      '  modules:',
      '    - name: hs_misc',
      '      target: { version: "2.0" }',
      '  devices: { bus: platform, driver: hs_misc }',
      `  hosts: { selector: { matchLabels: { pool: gpu-${run} } } }`,
      '  strategy: { canary: 1, maxUnavailable: 2, domainCap: { label: rack, max: 1 } }',
    ].join('\n');
    const first = await api.http<StoredRunbook>('POST', '/v1/runbooks', yaml, 'application/yaml');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.revision, 1);
    const second = await api.http<StoredRunbook>('POST', '/v1/runbooks', yaml, 'application/yaml');
    assert.equal(second.status, 200);
    assert.equal(second.body.revision, 2);
    assert.equal(second.body.createdAt, first.body.createdAt);
    assert.equal(second.body.runbook.spec.strategy.maxUnavailable, 2);

    const list = await api.get<RunbookListItem[]>('/v1/runbooks');
    assert.deepEqual(
      list.filter((r) => r.name === `gpu-${run}`).map((r) => [r.name, r.revision, r.modules[0]?.name]),
      [[`gpu-${run}`, 2, 'hs_misc']],
    );
    assert.equal((await api.get<StoredRunbook>(`/v1/runbooks/gpu-${run}`)).revision, 2);
    assert.equal((await api.http('GET', '/v1/runbooks/nope')).status, 404);
    const invalid = await api.http('POST', '/v1/runbooks', 'kind: Runbook\n', 'application/yaml');
    assert.deepEqual([invalid.status, invalid.body.error], [400, 'RUNBOOK_INVALID']);
  });

  it('plans a stored runbook with ?dryRun=true without creating anything', async () => {
    const before = await api.get<RolloutListItem[]>('/v1/rollouts');
    const plan = await api.http<RolloutPlan>('POST', '/v1/rollouts?dryRun=true', { runbook: `gpu-${run}` });
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    assert.equal(plan.body.dryRun, true);
    assert.deepEqual(plan.body.runbook, { name: `gpu-${run}`, revision: 2 });
    assert.deepEqual(
      plan.body.hosts.map((h) => [h.hostId, h.labels['rack'], h.available]),
      gpu.map((id) => [id, gpuRack[id], true]),
    );
    // Ordered by rack then id; at most one host per rack in a wave.
    assert.deepEqual(
      plan.body.waves.map((w) => [w.index, w.kind, w.hosts, w.status]),
      [
        [0, 'canary', [gpu[0]], 'planned'],
        [1, 'wave', [gpu[2], gpu[1]], 'planned'],
      ],
    );
    assert.equal(plan.body.rollout.strategy.maxUnavailable, 2);
    assert.deepEqual(plan.body.skipped, []);
    assert.equal((await api.get<RolloutListItem[]>('/v1/rollouts')).length, before.length);
    const stale = await api.http('POST', '/v1/rollouts?dryRun=true', { runbook: `gpu-${run}`, revision: 1 });
    assert.deepEqual([stale.status, stale.body.error], [409, 'RUNBOOK_REVISION_MISMATCH']);
  });

  it('pause withdraws the jobs no agent took; resume starts them again; the rollout finishes', async () => {
    const created = await api.http<RolloutView>('POST', '/v1/rollouts', { runbook: `gpu-${run}`, revision: 2 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;
    assert.deepEqual(created.body.runbook, { name: `gpu-${run}`, revision: 2 });
    await agentRuns(gpu[0]!);
    const wave1 = await rolloutWhere(id, 'wave 1 queued', (v) => stateOf(v, gpu[1]!) === 'queued');
    assert.equal(stateOf(wave1, gpu[2]!), 'queued');
    // g3's agent takes its job; g2's has not yet when the operator pauses.
    const taken = await takeSwapJob(client, gpu[2]!);
    await postStep(events, taken.data, String(taken.id), 'preflight', 'started');
    await rolloutWhere(id, 'g3 running', (v) => stateOf(v, gpu[2]!) === 'running');
    const paused = await api.http<RolloutView>('POST', `/v1/rollouts/${id}/pause`);
    assert.equal(paused.status, 200);
    assert.equal(paused.body.state, 'paused');
    assert.equal(stateOf(paused.body, gpu[1]!), 'pending', 'withdrawn: back to pending');
    assert.equal(stateOf(paused.body, gpu[2]!), 'running', 'a running swap finishes');
    assert.equal(await queueOf(gpu[1]!).getJob(swapJobId(id, gpu[1]!, 'forward')), undefined);
    const log = await eventLog(id);
    assert.deepEqual(
      log.filter((e) => e.type === 'withdrawn').map((e) => (e.type === 'withdrawn' ? e.hostId : '')),
      [gpu[1]],
    );
    // Who paused: the API caller (this controller runs open: every caller is `anonymous`).
    assert.deepEqual(
      log.filter((e) => e.type === 'paused').map((e) => (e.type === 'paused' ? e.by : '')),
      ['anonymous'],
    );
    await postResult(events, taken.data, String(taken.id), 'succeeded');
    await rolloutWhere(id, 'g3 done while paused', (v) => stateOf(v, gpu[2]!) === 'succeeded' && v.state === 'paused');

    const resumed = await api.http<RolloutView>('POST', `/v1/rollouts/${id}/resume`);
    assert.equal(resumed.status, 200);
    assert.equal(stateOf(resumed.body, gpu[1]!), 'queued');
    await agentRuns(gpu[1]!);
    const done = await rolloutWhere(id, 'rollout to end', (v) => v.state === 'succeeded');
    assert.deepEqual(new Set(done.hosts.map((h) => h.state)), new Set(['succeeded']));
  });

  it('rollback swaps back the hosts done so far and withdraws the rest', async () => {
    const created = await api.http('POST', '/v1/rollouts', runbookBody('to-roll-back', [hostA, hostB]));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id ?? '';
    await agentRuns(hostA);
    await rolloutWhere(id, 'host B queued', (v) => stateOf(v, hostB) === 'queued');
    const rolling = await api.http<RolloutView>('POST', `/v1/rollouts/${id}/rollback`);
    assert.equal(rolling.status, 200);
    assert.equal(rolling.body.state, 'rolling-back');
    assert.equal(stateOf(rolling.body, hostB), 'pending');
    assert.equal(stateOf(rolling.body, hostA), 'rolling-back');
    const back = await takeSwapJob(client, hostA);
    assert.equal(back.id, swapJobId(id, hostA, 'rollback'));
    assert.equal(back.data.direction, 'rollback');
    await postStep(events, back.data, String(back.id), 'unbind', 'completed');
    await postResult(events, back.data, String(back.id), 'succeeded');
    const done = await rolloutWhere(id, 'rolled back', (v) => v.state === 'rolled-back');
    assert.equal(stateOf(done, hostA), 'rolled-back');
    assert.equal(done.hosts[0]?.rollbackReport?.outcome, 'succeeded');
    assert.deepEqual(
      done.hosts[0]?.steps.map((s) => s.direction),
      ['rollback'],
    );
    assert.equal(done.summary.hostsRolledBack, 1);
  });

  it('a Prometheus gate without PROMETHEUS_URL holds the rollout with a clear reason; resume overrides it', async () => {
    const body = runbookBody('prom-gate', [hostA, hostB], {
      prometheusGate: { query: 'sum(up)', condition: { op: '>', value: 0 } },
    });
    const created = await api.http('POST', '/v1/rollouts', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id ?? '';
    await agentRuns(hostA);
    const held = await rolloutWhere(id, 'the gate to hold', (v) => v.state === 'waiting-gate');
    assert.match(held.decision.reason, /Prometheus gate error: .*PROMETHEUS_URL/);
    assert.ok(held.decision.nextWakeAt !== null && held.decision.nextWakeAt > Date.now());
    const gate = (await eventLog(id)).find((e) => e.type === 'prometheus-gate');
    assert.equal(gate?.type === 'prometheus-gate' ? gate.status : '', 'error');
    const resumed = await api.http<RolloutView>('POST', `/v1/rollouts/${id}/resume`);
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(stateOf(resumed.body, hostB), 'queued');
    await agentRuns(hostB);
    // Wave 1 has a Prometheus gate too: it holds again, and resume ends the rollout.
    await rolloutWhere(id, 'the gate to hold again', (v) => v.state === 'waiting-gate');
    assert.equal((await api.http<RolloutView>('POST', `/v1/rollouts/${id}/resume`)).body.state, 'succeeded');
  });

  it('a pause between waves ends with a wake-up job, not a timer in this process', async () => {
    const created = await api.http(
      'POST',
      '/v1/rollouts',
      runbookBody('pauses', [hostA, hostB], {
        strategy: { canary: 1, maxUnavailable: 1, pauseBetweenWavesSeconds: 2 },
      }),
    );
    const id = created.body.id ?? '';
    await agentRuns(hostA);
    const waiting = await rolloutWhere(id, 'the pause', (v) => v.state === 'waiting-pause-between-waves');
    const wakeAt = waiting.decision.nextWakeAt ?? 0;
    assert.ok(wakeAt > Date.now());
    const timers = new (await import('bullmq')).Queue('controller', {
      connection: client,
      prefix: 'hotswap:{controller}',
    });
    closers.push(() => timers.close());
    assert.ok(await timers.getJob(`wake-${id}-${wakeAt}`), 'a delayed wake-up job with a deterministic id');
    const next = await rolloutWhere(id, 'wave 1 after the pause', (v) => stateOf(v, hostB) === 'queued', 10_000);
    assert.ok(Date.now() >= wakeAt - 50);
    assert.equal(next.state, 'running');
    await agentRuns(hostB);
    await rolloutWhere(id, 'rollout to end', (v) => v.state === 'succeeded');
  });

  it('the sweep adds back a job lost between persisting `enqueued` and adding it', async () => {
    const created = await api.http('POST', '/v1/rollouts', runbookBody('lost-job', [hostA]));
    const id = created.body.id ?? '';
    const queue = queueOf(hostA);
    const jobId = swapJobId(id, hostA, 'forward');
    // As if the controller died after writing the event and before adding the job.
    await (await queue.getJob(jobId))?.remove();
    assert.equal(await queue.getJob(jobId), undefined);
    await waitFor('the sweep to add the job again', async () => ((await queue.getJob(jobId)) ? true : undefined), 5000);
    await agentRuns(hostA);
    await rolloutWhere(id, 'rollout to end', (v) => v.state === 'succeeded');
  });

  it('lists rollouts newest first', async () => {
    const { status, body } = await api.http<RolloutListItem[]>('GET', '/v1/rollouts');
    assert.equal(status, 200);
    const mine = body.filter((r) => r.id === succeededId || r.id === abortedId);
    assert.deepEqual(
      mine.map((r) => [r.id, r.name, r.state]),
      [
        [abortedId, 'fails-first', 'aborted'],
        [succeededId, 'two-hosts', 'succeeded'],
      ],
    );
    assert.equal((await api.http('GET', '/v1/rollouts?limit=0')).status, 400);
  });

  it('fails event jobs it cannot handle, loudly and without retries', async () => {
    const unknown = await events.add('swap.bogus', { v: 1 }, { attempts: 3 });
    const invalid = await events.add(EVENT_RESULT, { v: 1, rolloutId: succeededId }, { attempts: 3 });
    for (const job of [unknown, invalid]) {
      await waitFor(`event job ${job.name} to fail`, async () =>
        (await job.getState()) === 'failed' ? true : undefined,
      );
      const failed = await events.getJob(String(job.id));
      assert.equal(failed?.attemptsMade, 1, 'an unrecoverable event is not retried');
    }
    assert.match(
      (await events.getJob(String(unknown.id)))?.failedReason ?? '',
      /no handler for event job name "swap.bogus"/,
    );
    assert.match((await events.getJob(String(invalid.id)))?.failedReason ?? '', /invalid event payload/);
  });

  it('exports its own metrics only, counting each host result once', async () => {
    const response = await fetch(`${api.baseUrl}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.equal(metric(text, 'hotswap_controller_rollouts_total', 'outcome="succeeded"'), 5);
    assert.equal(metric(text, 'hotswap_controller_rollouts_total', 'outcome="aborted"'), 1);
    assert.equal(metric(text, 'hotswap_controller_rollouts_total', 'outcome="rolled-back"'), 1);
    assert.equal(metric(text, 'hotswap_controller_rollouts_created_total'), 7);
    assert.equal(metric(text, 'hotswap_controller_rollouts_running'), 0);
    assert.equal(
      metric(text, 'hotswap_controller_rollout_host_results_total', 'direction="forward",outcome="succeeded"'),
      10,
    );
    assert.equal(
      metric(text, 'hotswap_controller_rollout_host_results_total', 'direction="forward",outcome="skipped"'),
      1,
    );
    assert.equal(
      metric(text, 'hotswap_controller_rollout_host_results_total', 'direction="forward",outcome="failed-restored"'),
      1,
    );
    assert.equal(
      metric(text, 'hotswap_controller_rollout_host_results_total', 'direction="rollback",outcome="succeeded"'),
      1,
    );
    // g2 and B were withdrawn; g2 was enqueued again on resume: every start counts.
    assert.equal(metric(text, 'hotswap_controller_swap_jobs_enqueued_total', 'direction="forward"'), 14);
    assert.equal(metric(text, 'hotswap_controller_swap_jobs_enqueued_total', 'direction="rollback"'), 1);
    assert.equal(metric(text, 'hotswap_controller_events_total', 'type="result",result="duplicate"'), 1);
    assert.equal(metric(text, 'hotswap_controller_events_total', 'type="unknown",result="rejected"'), 1);
    assert.equal(metric(text, 'hotswap_controller_gate_results_total', 'gate="slo",result="pass"'), 9);
    assert.equal(metric(text, 'hotswap_controller_gate_results_total', 'gate="slo",result="no-data"'), 1);
    assert.equal(metric(text, 'hotswap_controller_gate_results_total', 'gate="prometheus",result="error"'), 2);
    assert.equal(metric(text, 'hotswap_controller_registered_hosts', 'available="true"'), 5);
    assert.equal(metric(text, 'hotswap_controller_build_info', 'version="0.1.0"'), 1);
    // Finished rollouts keep their host series a while: the last one (one host, succeeded).
    assert.match(text, /^hotswap_controller_rollout_hosts\{rollout="r-[a-z0-9]+",state="succeeded"\} 1$/m);
    assert.ok((metric(text, 'hotswap_controller_process_cpu_seconds_total') ?? -1) >= 0);
    assert.doesNotMatch(text, /^hotswap_agent_/m);
    assert.doesNotMatch(text, /pid="/);
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      assert.match(line, /^hotswap_controller_/, `a metric outside the controller's prefix: ${line}`);
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    await controller.stop(10_000);
    assert.equal(controller.child.signalCode ?? controller.child.exitCode, 'SIGTERM');
  });
});

describe('controller: a swap job no agent takes in time expires', { timeout: 60_000 }, () => {
  let redis: PrivateRedis;
  let client: Redis;
  let controller: FleetProcess;
  let logDir = '';

  before(async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    logDir = mkdtempSync(join(tmpdir(), 'hotswap-controller-expiry-'));
    controller = await startController(redis.url, logDir, 'controller', { JOB_TTL_SECONDS: '1' });
  });

  after(async () => {
    await controller?.stop().catch(() => undefined);
    client?.disconnect();
    await redis?.stop();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  it('the sweep removes the job past its notAfter, records `expired`, and the policy pauses the rollout', async () => {
    const api = new ControllerClient(String(controller.ready['url']));
    const host = `exp-${run}`;
    await heartbeat(client, host, { rack: 'r1' });
    const created = await api.http('POST', '/v1/rollouts', runbookBody('expires', [host]));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id ?? '';
    const paused = await waitFor(
      'the job to expire',
      async () => {
        const view = await api.get<RolloutView>(`/v1/rollouts/${id}`);
        return view.state === 'paused' ? view : undefined;
      },
      10_000,
    );
    assert.equal(paused.hosts[0]?.state, 'expired');
    assert.match(paused.decision.reason, /failed \(expired\)/);
    const queue = swapQueue(client, host);
    try {
      assert.equal(await queue.getJob(swapJobId(id, host, 'forward')), undefined, 'no agent will find it');
    } finally {
      await queue.close();
    }
    const { events: log } = await api.get<{ events: RolloutEvent[] }>(`/v1/rollouts/${id}/events`);
    assert.deepEqual(
      log.map((e) => e.type),
      ['started', 'enqueued', 'expired'],
    );
  });
});
