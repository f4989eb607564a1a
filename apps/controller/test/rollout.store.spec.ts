import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startPrivateRedis, type PrivateRedis } from '@hotswap/tools';
import { Redis } from 'ioredis';
import { RolloutStore, ROLLOUTS_RUNNING_KEY, rolloutKey } from '../src/rollouts/rollout.store.js';
import {
  advance,
  applyResult,
  applyStep,
  createRollout,
  type EventOutcome,
} from '../src/rollouts/rollout.transitions.js';
import { reportFor, runbookFor } from './fixtures.js';

/**
 * The store against a real Redis, with two connections standing in for two controller
 * replicas that apply events to the same rollout at the same time.
 */
describe('RolloutStore: concurrent writers on a private Redis', () => {
  let redis: PrivateRedis;
  let first: Redis;
  let second: Redis;
  let replicas: RolloutStore[];

  before(async () => {
    redis = await startPrivateRedis();
    first = new Redis(redis.url);
    second = new Redis(redis.url);
    replicas = [new RolloutStore(first), new RolloutStore(second)];
  });

  after(async () => {
    first?.disconnect();
    second?.disconnect();
    await redis?.stop();
  });

  const newRollout = async (hosts: string[]) => {
    const id = `r-${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const record = advance(createRollout(id, runbookFor('store-test', hosts), hosts, Date.now()), Date.now());
    await replicas[0]!.create(record);
    return record;
  };

  it('loses no update when two replicas write the same rollout at once', async () => {
    const { id } = await newRollout(['host-a', 'host-b']);
    const steps = Array.from({ length: 40 }, (_, i) => i);
    await Promise.all(
      steps.map((i) =>
        replicas[i % 2]!.update(
          id,
          (record) =>
            applyStep(
              record,
              { hostId: 'host-a', swapId: 's', direction: 'forward', at: 1000 + i, phase: 'unbind', status: 'started' },
              Date.now(),
            ).record,
        ),
      ),
    );
    const stored = await replicas[1]!.get(id);
    assert.deepEqual(
      stored?.hosts[0]?.steps.map((s) => s.at),
      steps.map((i) => 1000 + i),
    );
  });

  it('applies a result delivered to both replicas at once exactly once', async () => {
    const { id } = await newRollout(['host-a', 'host-b']);
    const event = {
      hostId: 'host-a',
      swapId: 'swap-1',
      direction: 'forward' as const,
      at: 1,
      report: reportFor('host-a', 'swap-1', 'succeeded'),
    };
    const dispositions = await Promise.all(
      replicas.concat(replicas).map(async (store) => {
        let outcome: EventOutcome | undefined;
        await store.update(id, (record) => (outcome = applyResult(record, event, Date.now())).record);
        return outcome?.disposition;
      }),
    );
    assert.deepEqual(dispositions.sort(), ['applied', 'duplicate', 'duplicate', 'duplicate']);
    const stored = await replicas[0]!.get(id);
    assert.deepEqual(
      stored?.hosts.map((h) => h.state),
      ['succeeded', 'queued'],
    );
  });

  it('keeps the running index in step with the record', async () => {
    const { id } = await newRollout(['host-a']);
    assert.notEqual(await first.zscore(ROLLOUTS_RUNNING_KEY, id), null);
    const event = {
      hostId: 'host-a',
      swapId: 'swap-2',
      direction: 'forward' as const,
      at: 1,
      report: reportFor('host-a', 'swap-2', 'refused'),
    };
    const { record } = await replicas[0]!.update(id, (r) => applyResult(r, event, Date.now()).record);
    assert.equal(record.state, 'failed');
    assert.equal(await first.zscore(ROLLOUTS_RUNNING_KEY, id), null);
  });

  it('refuses to read a record it does not understand, and says which', async () => {
    await first.set(rolloutKey('r-future'), JSON.stringify({ v: 99, id: 'r-future' }));
    await assert.rejects(replicas[0]!.get('r-future'), {
      code: 'ROLLOUT_RECORD_INVALID',
      message: /r-future.*version 99/,
    });
    await assert.rejects(
      replicas[0]!.update('r-missing', () => null),
      { code: 'ROLLOUT_NOT_FOUND' },
    );
  });
});
