import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { swapJobId } from '@hotswap/contracts';
import type { HostInfo } from '@hotswap/rollout';
import { startPrivateRedis, startPrivateRedisCluster, type PrivateRedis } from '@hotswap/tools';
import { createRedisClient, type RedisClient } from '../src/redis/redis-client.js';
import { HostClaimsStore, hostClaimKey } from '../src/rollouts/host-claims.store.js';
import { reconcile } from '../src/rollouts/rollout.reconcile.js';
import type { RolloutRecord } from '../src/rollouts/rollout.record.js';
import {
  MAX_STEPS_PER_HOST,
  ROLLOUTS_FINISHED_KEY,
  ROLLOUTS_RUNNING_KEY,
  RolloutStore,
  rolloutKey,
} from '../src/rollouts/rollout.store.js';
import { applyResult, commandEvent, newRolloutRecord } from '../src/rollouts/rollout.transitions.js';
import { reportFor, runbookFor } from './fixtures.js';

/**
 * The stores against a real Redis, with two connections standing in for two controller
 * replicas that write the same rollout at the same time. The same checks run on a three-node
 * Redis Cluster: the compare-and-set script, the MULTIs and pipelines must keep to one slot.
 */
describe('RolloutStore and HostClaimsStore: concurrent writers on a private Redis', () =>
  concurrentWriters(() => startPrivateRedis()));
describe('RolloutStore and HostClaimsStore: concurrent writers on a private three-node Redis Cluster', () =>
  concurrentWriters(() => startPrivateRedisCluster()));

function concurrentWriters(startRedis: () => Promise<PrivateRedis>): void {
  let redis: PrivateRedis;
  let first: RedisClient;
  let second: RedisClient;
  let replicas: RolloutStore[];

  const connect = (url: string): RedisClient =>
    createRedisClient(
      { redisUrl: url, redisPassword: undefined, redisTlsCa: undefined },
      { maxRetriesPerRequest: 20, connectionName: 'store-test' },
    );

  before(async () => {
    redis = await startRedis();
    first = connect(redis.url);
    second = connect(redis.url);
    replicas = [new RolloutStore(first), new RolloutStore(second)];
  });

  after(async () => {
    first?.disconnect();
    second?.disconnect();
    await redis?.stop();
  });

  const HOSTS = ['host-a', 'host-b', 'host-c'];
  const infos: HostInfo[] = HOSTS.map((id) => ({ id, labels: {}, available: true }));

  const newRollout = async (spec: Record<string, unknown> = {}): Promise<RolloutRecord> => {
    const id = `r-${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const record = newRolloutRecord(
      id,
      runbookFor('store-test', HOSTS, spec),
      null,
      HOSTS.map((hostId) => ({ hostId, labels: {} })),
      Date.now(),
    );
    await replicas[0]!.create(record, [{ type: 'started', at: Date.now() }]);
    return record;
  };

  it('loses no event when two replicas append to the same rollout at once', async () => {
    const { id } = await newRollout();
    const writes = Array.from({ length: 40 }, (_, i) => i);
    await Promise.all(
      writes.map((i) =>
        replicas[i % 2]!.update(id, (snapshot) => ({
          change: { record: snapshot.record, events: [{ type: 'paused', at: 1000 + i, by: `w${i}` }] },
          result: null,
        })),
      ),
    );
    const stored = await replicas[1]!.load(id);
    assert.equal(stored?.rev, 40);
    assert.deepEqual(
      stored?.events
        .slice(1)
        .map((e) => e.at)
        .sort((a, b) => a - b),
      writes.map((i) => 1000 + i),
    );
  });

  it('two replicas reconciling at once start the canary once', async () => {
    for (let round = 0; round < 5; round++) {
      const { id } = await newRollout({ strategy: { canary: 1, maxUnavailable: 2 } });
      const outcomes = await Promise.all(
        [...replicas, ...replicas].map((store) =>
          store.update(id, (snapshot) => {
            const result = reconcile(snapshot, infos, Date.now());
            return { change: result.changed ? { record: result.record, events: result.events } : null, result };
          }),
        ),
      );
      const starts = outcomes.filter((o) => o.changed).flatMap((o) => o.result.starts.map((s) => s.hostId));
      assert.deepEqual(starts, ['host-a'], 'exactly one replica wrote the start, and only it enqueues');
      const stored = await replicas[0]!.load(id);
      assert.equal(stored?.events.filter((e) => e.type === 'enqueued').length, 1);
    }
  });

  it('applies a result delivered to both replicas at once exactly once, with its report', async () => {
    const { id } = await newRollout();
    await replicas[0]!.update(id, (snapshot) => {
      const result = reconcile(snapshot, infos, Date.now());
      return { change: { record: result.record, events: result.events }, result };
    });
    const swapId = swapJobId(id, 'host-a', 'forward');
    const input = {
      hostId: 'host-a',
      swapId,
      direction: 'forward' as const,
      report: reportFor('host-a', swapId, 'succeeded'),
    };
    const dispositions = await Promise.all(
      [...replicas, ...replicas].map(async (store) => {
        const update = await store.update(id, (snapshot) => {
          const outcome = applyResult(snapshot, input, Date.now());
          const change = outcome.event
            ? { record: snapshot.record, events: [outcome.event], reports: [{ ...input }] }
            : null;
          return { change, result: outcome.disposition };
        });
        return update.result;
      }),
    );
    assert.deepEqual(dispositions.sort(), ['applied', 'duplicate', 'duplicate', 'duplicate']);
    const stored = await replicas[0]!.load(id);
    assert.equal(stored?.events.filter((e) => e.type === 'result').length, 1);
    const reports = await replicas[1]!.reports(id);
    assert.equal(reports.get('host-a')?.forward?.swapId, swapId);
  });

  it('keeps the running and finished indexes in step with the record', async () => {
    const record = await newRollout();
    assert.notEqual(await first.zscore(ROLLOUTS_RUNNING_KEY, record.id), null);
    await replicas[0]!.update(record.id, (snapshot) => ({
      change: { record: snapshot.record, events: [commandEvent(snapshot, 'abort', Date.now())] },
      result: null,
    }));
    const { after: ended } = await replicas[0]!.update(record.id, (snapshot) => {
      const result = reconcile(snapshot, infos, Date.now());
      return { change: { record: result.record, events: result.events }, result };
    });
    assert.equal(ended.record.state, 'aborted');
    assert.equal(await first.zscore(ROLLOUTS_RUNNING_KEY, record.id), null);
    assert.notEqual(await first.zscore(ROLLOUTS_FINISHED_KEY, record.id), null);
    assert.ok((await replicas[0]!.runningIds()).every((id) => id !== record.id));
  });

  it('keeps steps sorted by time, once each, the last ones only', async () => {
    const { id } = await newRollout();
    const step = (at: number, phase = 'unbind') => ({ phase, status: 'started', at, direction: 'forward' as const });
    assert.equal(await replicas[0]!.addStep(id, 'host-a', step(2000)), true);
    assert.equal(await replicas[1]!.addStep(id, 'host-a', step(2000)), false, 'a redelivered step is a no-op');
    await replicas[0]!.addStep(id, 'host-a', step(1500, 'preflight'));
    assert.deepEqual(
      (await replicas[0]!.steps(id, ['host-a'])).get('host-a')?.map((s) => s.phase),
      ['preflight', 'unbind'],
    );
    for (let i = 0; i < MAX_STEPS_PER_HOST + 20; i++) await replicas[i % 2]!.addStep(id, 'host-b', step(3000 + i));
    const kept = (await replicas[0]!.steps(id, ['host-b'])).get('host-b') ?? [];
    assert.equal(kept.length, MAX_STEPS_PER_HOST);
    assert.equal(kept.at(-1)?.at, 3000 + MAX_STEPS_PER_HOST + 19);
  });

  it('refuses to read a record it does not understand, and says which', async () => {
    await first.hset(rolloutKey('r-future'), 'record', JSON.stringify({ v: 99, id: 'r-future' }), 'rev', '0');
    await assert.rejects(replicas[0]!.load('r-future'), {
      code: 'ROLLOUT_RECORD_INVALID',
      message: /r-future.*version 99/,
    });
    await assert.rejects(
      replicas[0]!.update('r-missing', () => ({ change: null, result: null })),
      { code: 'ROLLOUT_NOT_FOUND' },
    );
  });

  it('host claims: of two rollouts claiming overlapping hosts at once, one wins, the other takes nothing', async () => {
    const claims = [new HostClaimsStore(first), new HostClaimsStore(second)];
    const live = async () => true;
    const hosts = (n: number) => Array.from({ length: 5 }, (_, i) => `claim-${n}-${i}`);
    for (let round = 0; round < 5; round++) {
      const shared = hosts(round);
      const [a, b] = await Promise.all([
        claims[0]!.claim(`r-a${round}`, shared, live, Date.now()),
        claims[1]!.claim(`r-b${round}`, [...shared].reverse(), live, Date.now()),
      ]);
      assert.equal([a, b].filter((c) => c.ok).length, 1, JSON.stringify([a, b]));
      const winner = a.ok ? `r-a${round}` : `r-b${round}`;
      const owners = await Promise.all(shared.map((h) => claims[0]!.owner(h)));
      assert.ok(owners.every((o) => o?.rolloutId === winner));
      const loser = a.ok ? b : a;
      assert.deepEqual(loser, { ok: false, owner: winner });
    }
  });

  it('host claims: a finished or never-stored owner is taken over; release only frees its own', async () => {
    const claims = new HostClaimsStore(first);
    await claims.claim('r-old', ['claim-x'], async () => true, Date.now());
    assert.deepEqual(await claims.claim('r-new', ['claim-x'], async () => true, Date.now()), {
      ok: false,
      owner: 'r-old',
    });
    assert.deepEqual(await claims.claim('r-new', ['claim-x'], async () => false, Date.now()), { ok: true });
    await claims.release('r-old', ['claim-x']);
    assert.equal((await claims.owner('claim-x'))?.rolloutId, 'r-new');
    // A claim left by a crash before the rollout was stored: live for a grace period, then stale.
    await first.set(hostClaimKey('claim-y'), `r-ghost ${Date.now() - 120_000}`);
    assert.deepEqual(await claims.claim('r-new', ['claim-y'], async () => null, Date.now()), { ok: true });
    await first.set(hostClaimKey('claim-z'), `r-young ${Date.now()}`);
    assert.equal((await claims.claim('r-new', ['claim-z'], async () => null, Date.now())).ok, false);
    await claims.release('r-new', ['claim-x', 'claim-y']);
    assert.equal(await claims.owner('claim-x'), null);
  });
}
