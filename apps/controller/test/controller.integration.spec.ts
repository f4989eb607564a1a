import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  EVENTS_PREFIX,
  EVENTS_QUEUE,
  EVENT_RESULT,
  EVENT_STEP,
  HOSTS_KEY,
  JOB_SWAP,
  SWAP_QUEUE,
  hostKey,
  hostQueuePrefix,
  swapJobId,
  swapJobSchema,
  type SwapJob,
  type SwapOutcome,
} from '@hotswap/contracts';
import { paths, startFleetProcess, startPrivateRedis, type FleetProcess, type PrivateRedis } from '@hotswap/tools';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { RegisteredHost, RolloutListItem, RolloutView } from '../src/index.js';
import { reportFor, runbookBody } from './fixtures.js';

/**
 * The controller as a real process over real HTTP, against a private Redis. The test plays
 * the agents: it registers two hosts the way their heartbeats do, takes each swap job from the
 * host's own queue with a BullMQ Worker, and answers on the event queue as an agent would.
 * Set KEEP_CONTROLLER_LOG=1 to keep the controller's log (its path is printed).
 */

const run = randomUUID().slice(0, 8);
const hostA = `it-${run}-a`;
const hostB = `it-${run}-b`;

let redis: PrivateRedis;
let client: Redis;
let controller: FleetProcess;
let baseUrl = '';
let logDir = '';
let events: Queue;
const closers: (() => Promise<unknown>)[] = [];

/** An error body, or any other JSON answer (read through the fields the tests look at). */
interface Answer {
  readonly error?: string;
  readonly message?: string;
  readonly issues?: readonly { path: string; message: string; line?: number; column?: number }[];
  readonly hosts?: readonly string[];
  readonly id?: string;
}

async function http<T = Answer>(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('json') ?? false;
  return { status: response.status, body: (isJson && text ? JSON.parse(text) : text) as T };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await check();
    if (last !== undefined) return last as T;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const rollout = async (id: string): Promise<RolloutView> => (await http<RolloutView>('GET', `/v1/rollouts/${id}`)).body;
const rolloutWhere = (id: string, what: string, ok: (view: RolloutView) => boolean) =>
  waitFor(what, async () => {
    const view = await rollout(id);
    return ok(view) ? view : undefined;
  });

/** Registers a host exactly as the agent's HeartbeatService does. */
async function heartbeat(hostId: string, labels: Record<string, string>): Promise<void> {
  const now = Date.now();
  await client
    .multi()
    .hset(hostKey(hostId), {
      hostId,
      agentVersion: '0.1.0',
      kernel: '6.8.0-test',
      labels: JSON.stringify(labels),
      lastSeen: String(now),
      busy: '0',
      metricsUrl: '',
    })
    .zadd(HOSTS_KEY, now, hostId)
    .exec();
}

/** Plays the agent's queue side: takes the next job from the host's own queue. */
async function takeSwapJob(hostId: string): Promise<Job<SwapJob>> {
  let take!: (job: Job<SwapJob>) => void;
  const taken = new Promise<Job<SwapJob>>((resolve) => (take = resolve));
  const worker = new Worker<SwapJob>(SWAP_QUEUE, async (job) => take(job), {
    connection: client,
    prefix: hostQueuePrefix(hostId),
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      taken,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no swap job for ${hostId}`)), 10_000)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
    await worker.close();
  }
}

/** Plays the agent's event side, with the envelope the contracts define. */
function envelope(job: SwapJob, swapId: string) {
  return { v: 1, rolloutId: job.rolloutId, hostId: job.hostId, swapId, direction: job.direction, at: Date.now() };
}
const postStep = (job: SwapJob, swapId: string, phase: string, status: string, detail?: string) =>
  events.add(
    EVENT_STEP,
    { ...envelope(job, swapId), phase, status, ...(detail ? { detail } : {}) },
    { jobId: `${swapId}-${randomUUID()}` },
  );
const postResult = (
  job: SwapJob,
  swapId: string,
  outcome: SwapOutcome,
  recoveries: Parameters<typeof reportFor>[3] = [],
) =>
  events.add(
    EVENT_RESULT,
    { ...envelope(job, swapId), report: reportFor(job.hostId, swapId, outcome, recoveries) },
    { jobId: `${swapId}-result-${randomUUID()}` },
  );

function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('controller: a real process over HTTP, with a private Redis', { timeout: 60_000 }, () => {
  before(async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    events = new Queue(EVENTS_QUEUE, { connection: client, prefix: EVENTS_PREFIX });
    logDir = mkdtempSync(join(tmpdir(), 'hotswap-controller-test-'));
    controller = await startFleetProcess('controller', [paths.controllerMain], {
      env: { REDIS_URL: redis.url, PORT: '0', LOG_LEVEL: 'debug' },
      logFile: join(logDir, 'controller.log'),
    });
    baseUrl = String(controller.ready['url']);
    await heartbeat(hostA, { rack: 'r1' });
    await heartbeat(hostB, { rack: 'r2' });
  });

  after(async () => {
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
    assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await http('GET', '/healthz'), { status: 200, body: { status: 'ok', redis: 'up' } });
  });

  it('lists the registered hosts from the heartbeat registry', async () => {
    const { status, body } = await http('GET', '/v1/hosts');
    assert.equal(status, 200);
    const hosts = (body as RegisteredHost[]).filter((h) => h.hostId.startsWith(`it-${run}-`));
    assert.deepEqual(
      hosts.map((h) => [h.hostId, h.available, h.labels['rack'], h.kernel, h.busy]),
      [
        [hostA, true, 'r1', '6.8.0-test', false],
        [hostB, true, 'r2', '6.8.0-test', false],
      ],
    );
  });

  it('refuses an invalid runbook with 400 and the paths of the issues', async () => {
    const body = runbookBody('bad-one', [hostA]);
    const spec = body['spec'] as Record<string, unknown>;
    delete spec['devices'];
    spec['modules'] = [{ name: 'hs_misc', target: { version: '2.0', fil: '/x.ko' } }];
    const { status, body: error } = await http('POST', '/v1/rollouts', body);
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
    const { status, body } = await http('POST', '/v1/rollouts', yaml, 'application/yaml');
    assert.equal(status, 400);
    assert.equal(body.error, 'RUNBOOK_INVALID');
    assert.deepEqual(
      (body.issues ?? []).map((i) => [i.path, i.line]),
      [['spec.deadlines.unbindSeconds', 11]],
    );
    const syntax = await http('POST', '/v1/rollouts', 'spec:\n  modules: [\n', 'text/yaml');
    assert.equal(syntax.status, 400);
    assert.ok(syntax.body.issues?.length);
    assert.ok(syntax.body.issues.every((i) => typeof i.line === 'number'));
  });

  it('refuses a runbook without hosts, or with hosts no agent registered', async () => {
    const noHosts = runbookBody('no-hosts', []);
    delete (noHosts['spec'] as Record<string, unknown>)['hosts'];
    const missing = await http('POST', '/v1/rollouts', noHosts);
    assert.equal(missing.status, 400);
    assert.deepEqual(
      (missing.body.issues ?? []).map((i) => i.path),
      ['spec.hosts.names'],
    );

    const ghost = `it-${run}-ghost`;
    const unknown = await http('POST', '/v1/rollouts', runbookBody('ghosts', [hostA, ghost]));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'HOSTS_NOT_REGISTERED');
    assert.deepEqual(unknown.body.hosts, [ghost]);
    assert.match(unknown.body.message ?? '', new RegExp(ghost));
  });

  it('answers errors with a stable code', async () => {
    assert.deepEqual((await http('GET', '/v1/rollouts/r-doesnotexist')).body.error, 'ROLLOUT_NOT_FOUND');
    assert.equal((await http('GET', '/v1/rollouts/r-doesnotexist')).status, 404);
    assert.equal((await http('POST', '/v1/rollouts', '{"apiVersion":', 'application/json')).body.error, 'BAD_REQUEST');
    assert.equal((await http('POST', '/v1/rollouts', 'hello', 'text/plain')).status, 415);
    assert.equal((await http('GET', '/v1/nothing-here')).body.error, 'NOT_FOUND');
  });

  let succeededId = '';

  it('runs a rollout host by host as the agents report, and ends succeeded', async () => {
    const created = await http<RolloutView>('POST', '/v1/rollouts', runbookBody('two-hosts', [hostA, hostB]));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const view = created.body;
    succeededId = view.id;
    assert.match(view.id, /^r-[a-z0-9]+$/);
    assert.equal(view.name, 'two-hosts');
    assert.equal(view.state, 'running');
    assert.deepEqual(view.modules, [{ name: 'hs_misc', target: { version: '2.0', params: [] } }]);
    assert.deepEqual(
      view.hosts.map((h) => [h.hostId, h.state]),
      [
        [hostA, 'queued'],
        [hostB, 'pending'],
      ],
    );

    // Host A's agent: the job is on A's own queue, with the contract's payload.
    const jobA = await takeSwapJob(hostA);
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
    await postStep(payload, swapA, 'preflight', 'completed');
    await postStep(payload, swapA, 'unbind', 'blocked', 'unbind did not return within 1000 ms');
    const running = await rolloutWhere(view.id, 'host A running with 2 steps', (v) => v.hosts[0]?.steps.length === 2);
    assert.equal(running.hosts[0]?.state, 'running');
    assert.deepEqual(
      running.hosts[0]?.steps.map((s) => [s.phase, s.status, s.detail]),
      [
        ['preflight', 'completed', undefined],
        ['unbind', 'blocked', 'unbind did not return within 1000 ms'],
      ],
    );
    assert.equal(running.state, 'running');

    await postResult(payload, swapA, 'succeeded', [
      ['recovered', 0.5],
      ['recovered', 1.5],
    ]);
    // The same result again (a redelivery with another job id): recorded once only.
    await postResult(payload, swapA, 'succeeded', [['recovered', 9]]);
    const second = await rolloutWhere(view.id, 'host B queued', (v) => v.hosts[1]?.state === 'queued');
    assert.equal(second.hosts[0]?.state, 'succeeded');
    assert.equal(second.hosts[0]?.report?.outcome, 'succeeded');
    assert.equal(second.hosts[0]?.recoveries.length, 2);

    // Host B's agent.
    const jobB = await takeSwapJob(hostB);
    assert.equal(jobB.id, swapJobId(view.id, hostB, 'forward'));
    await postStep(jobB.data, String(jobB.id), 'preflight', 'started');
    await postResult(jobB.data, String(jobB.id), 'skipped');
    const done = await rolloutWhere(view.id, 'rollout to end', (v) => v.state !== 'running');
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(
      done.hosts.map((h) => h.state),
      ['succeeded', 'skipped'],
    );
    assert.deepEqual(done.summary, {
      hostsTotal: 2,
      hostsDone: 2,
      recoveries: 2,
      recoveryP50Seconds: 0.5,
      recoveryMaxSeconds: 1.5,
      notRecovered: 0,
    });
    assert.ok(done.updatedAt >= done.createdAt);
  });

  let failedId = '';

  it('stops a rollout at the first failed host, leaving the rest pending with no job', async () => {
    const created = await http('POST', '/v1/rollouts', runbookBody('fails-first', [hostB, hostA]));
    assert.equal(created.status, 201);
    failedId = created.body.id ?? '';
    const job = await takeSwapJob(hostB);
    await postResult(job.data, String(job.id), 'failed-restored');
    const done = await rolloutWhere(failedId, 'rollout to fail', (v) => v.state !== 'running');
    assert.equal(done.state, 'failed');
    assert.deepEqual(
      done.hosts.map((h) => [h.hostId, h.state]),
      [
        [hostB, 'failed-restored'],
        [hostA, 'pending'],
      ],
    );
    const queueA = new Queue(SWAP_QUEUE, { connection: client, prefix: hostQueuePrefix(hostA) });
    closers.push(() => queueA.close());
    assert.equal(await queueA.getJob(swapJobId(failedId, hostA, 'forward')), undefined);
  });

  it('lists rollouts newest first', async () => {
    const { status, body } = await http('GET', '/v1/rollouts');
    assert.equal(status, 200);
    const mine = (body as RolloutListItem[]).filter((r) => r.id === succeededId || r.id === failedId);
    assert.deepEqual(
      mine.map((r) => [r.id, r.name, r.state]),
      [
        [failedId, 'fails-first', 'failed'],
        [succeededId, 'two-hosts', 'succeeded'],
      ],
    );
    assert.equal((await http('GET', '/v1/rollouts?limit=0')).status, 400);
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
    const response = await fetch(`${baseUrl}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.equal(metric(text, 'hotswap_controller_rollouts_total', 'outcome="succeeded"'), 1);
    assert.equal(metric(text, 'hotswap_controller_rollouts_total', 'outcome="failed"'), 1);
    assert.equal(metric(text, 'hotswap_controller_rollouts_created_total'), 2);
    assert.equal(metric(text, 'hotswap_controller_rollouts_running'), 0);
    assert.equal(metric(text, 'hotswap_controller_rollout_host_results_total', 'outcome="succeeded"'), 1);
    assert.equal(metric(text, 'hotswap_controller_rollout_host_results_total', 'outcome="skipped"'), 1);
    assert.equal(metric(text, 'hotswap_controller_rollout_host_results_total', 'outcome="failed-restored"'), 1);
    assert.equal(metric(text, 'hotswap_controller_swap_jobs_enqueued_total'), 3);
    assert.equal(metric(text, 'hotswap_controller_events_total', 'type="result",result="duplicate"'), 1);
    assert.equal(metric(text, 'hotswap_controller_events_total', 'type="unknown",result="rejected"'), 1);
    assert.equal(metric(text, 'hotswap_controller_registered_hosts', 'available="true"'), 2);
    assert.equal(metric(text, 'hotswap_controller_build_info', 'version="0.1.0"'), 1);
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
