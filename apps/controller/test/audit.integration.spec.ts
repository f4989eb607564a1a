import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startPrivateRedis, type PrivateRedis } from '@hotswap/tools';
import { Redis } from 'ioredis';
import type { AuditEntry } from '../src/audit/audit.entry.js';
import { AUDIT_KEY } from '../src/audit/audit.log.js';
import { call, newToken, registerHost, startController, type Answer, type TestController } from './auth-harness.js';
import { runbookBody } from './fixtures.js';

/**
 * The audit log across the mutating endpoints (runbooks, rollouts, rollout commands): each
 * call leaves one entry whose status is the one the client got, with the runbook or rollout
 * it concerned, and reads leave none.
 */

const operator = newToken();
const viewer = newToken();
const run = randomUUID().slice(0, 8);
const host = `audit-${run}`;
const runbook = `audit-${run}`;

let redis: PrivateRedis;
let client: Redis;
let controller: TestController;

const newest = async (): Promise<AuditEntry> => {
  const answer = await call<AuditEntry[]>(controller.url, 'GET', '/v1/audit?limit=1', { token: viewer });
  assert.equal(answer.status, 200);
  assert.ok(answer.body[0], 'an audit entry');
  return answer.body[0];
};

/** The newest entry is this call, by the operator, with the status the client got. */
async function assertAudited(answer: Answer, method: string, path: string): Promise<AuditEntry> {
  const entry = await newest();
  assert.deepEqual(
    [entry.who, entry.role, entry.method, entry.path, entry.status, entry.outcome],
    ['ops', 'operator', method, path, answer.status, answer.status < 400 ? 'ok' : 'error'],
  );
  if (answer.status >= 400) assert.equal(entry.error, answer.body['error']);
  else assert.equal(entry.error, undefined);
  return entry;
}

describe('audit log of mutating calls (real controller, real Redis)', { timeout: 60_000 }, () => {
  before(async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    await client.del(AUDIT_KEY);
    controller = await startController({
      REDIS_URL: redis.url,
      HOTSWAP_TOKENS: `ops:operator:${operator},dash:read-only:${viewer}`,
    });
    await registerHost(client, host);
  });

  after(async () => {
    await controller?.stop().catch(() => undefined);
    client?.disconnect();
    await redis?.stop().catch(() => undefined);
  });

  it('records a stored runbook under its name, with the status the client got', async () => {
    const stored = await call(controller.url, 'POST', '/v1/runbooks', {
      token: operator,
      body: runbookBody(runbook, [host]),
    });
    assert.ok(stored.status < 300, JSON.stringify(stored.body));
    assert.equal((await assertAudited(stored, 'POST', '/v1/runbooks')).runbook, runbook);

    const invalid = await call(controller.url, 'POST', '/v1/runbooks', {
      token: operator,
      body: { ...runbookBody(`${runbook}-bad`, [host]), kind: 'Nope' },
    });
    assert.equal(invalid.status, 400);
    assert.equal((await assertAudited(invalid, 'POST', '/v1/runbooks')).runbook, `${runbook}-bad`);
  });

  it('records a rollout with its id, and a command on it with the id from the path', async () => {
    const created = await call(controller.url, 'POST', '/v1/rollouts', {
      token: operator,
      body: runbookBody(runbook, [host]),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body['id']);
    const entry = await assertAudited(created, 'POST', '/v1/rollouts');
    assert.equal(entry.rolloutId, id);
    assert.equal(entry.runbook, runbook);

    const paused = await call(controller.url, 'POST', `/v1/rollouts/${id}/pause`, { token: operator });
    assert.ok(paused.status < 500, JSON.stringify(paused.body));
    assert.equal((await assertAudited(paused, 'POST', `/v1/rollouts/${id}/pause`)).rolloutId, id);

    const unknown = await call(controller.url, 'POST', '/v1/rollouts/no-such-rollout/abort', { token: operator });
    assert.equal(unknown.status, 404);
    assert.equal(
      (await assertAudited(unknown, 'POST', '/v1/rollouts/no-such-rollout/abort')).rolloutId,
      'no-such-rollout',
    );
  });

  it('records nothing for reads', async () => {
    const before = await client.llen(AUDIT_KEY);
    for (const path of ['/v1/rollouts', '/v1/runbooks', '/v1/hosts', '/v1/audit', '/openapi.json']) {
      assert.equal((await call(controller.url, 'GET', path, { token: viewer })).status, 200, path);
    }
    assert.equal((await call(controller.url, 'GET', '/v1/rollouts')).status, 401);
    assert.equal(await client.llen(AUDIT_KEY), before);
  });
});
