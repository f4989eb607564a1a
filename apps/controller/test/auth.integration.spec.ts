import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPrivateRedis, type PrivateRedis } from '@hotswap/tools';
import { Redis } from 'ioredis';
import { AUDIT_CAPACITY, AUDIT_KEY } from '../src/audit/audit.log.js';
import type { AuditEntry } from '../src/audit/audit.entry.js';
import {
  call,
  newToken,
  registerHost,
  runControllerToExit,
  startController,
  type TestController,
} from './auth-harness.js';
import { runbookBody } from './fixtures.js';

/**
 * Bearer tokens and roles on a real controller process over HTTP, with a private Redis: an
 * operator token from HOTSWAP_TOKENS, a read-only token from a YAML file that holds only its
 * SHA-256. Then the audit log those calls left, and the refusal to start without tokens.
 */

const operator = newToken();
const viewer = newToken();
const host = `auth-${randomUUID().slice(0, 8)}`;

let redis: PrivateRedis;
let client: Redis;
let controller: TestController;
let dir = '';
let createdId = '';

const audit = async (limit = 20): Promise<AuditEntry[]> => {
  const answer = await call<AuditEntry[]>(controller.url, 'GET', `/v1/audit?limit=${limit}`, { token: viewer });
  assert.equal(answer.status, 200);
  return answer.body;
};

describe('API tokens and roles (real controller, real Redis)', { timeout: 60_000 }, () => {
  before(async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    await client.del(AUDIT_KEY);
    dir = mkdtempSync(join(tmpdir(), 'hotswap-auth-'));
    const tokensFile = join(dir, 'tokens.yaml');
    const digest = createHash('sha256').update(viewer).digest('hex');
    writeFileSync(tokensFile, `# read-only for dashboards\n- name: viewer\n  role: read-only\n  sha256: ${digest}\n`);
    controller = await startController({
      REDIS_URL: redis.url,
      HOTSWAP_TOKENS: `ops:operator:${operator}`,
      HOTSWAP_TOKENS_FILE: tokensFile,
    });
    await registerHost(client, host);
  });

  after(async () => {
    for (const close of [
      () => controller?.stop(),
      async () => client?.disconnect(),
      () => redis?.stop(),
      async () => dir && rmSync(dir, { recursive: true, force: true }),
    ]) {
      await close().catch((error: Error) => process.stderr.write(`cleanup: ${error.message}\n`));
    }
  });

  it('answers 401 UNAUTHENTICATED with a Bearer challenge without a valid token', async () => {
    const none = await call(controller.url, 'GET', '/v1/rollouts');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="hotswap"');
    assert.equal(none.body['error'], 'UNAUTHENTICATED');
    assert.match(String(none.body['message']), /Authorization: Bearer <token>/);

    const wrong = await call(controller.url, 'GET', '/v1/hosts', { token: newToken() });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="hotswap", error="invalid_token"');

    const malformed = await call(controller.url, 'GET', '/v1/hosts', { headers: { authorization: operator } });
    assert.equal(malformed.status, 401);
    assert.match(String(malformed.body['message']), /not "Bearer <token>"/);
  });

  it('leaves /healthz and /metrics open for probes and Prometheus', async () => {
    assert.equal((await call(controller.url, 'GET', '/healthz')).status, 200);
    const metrics = await call(controller.url, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.body), /hotswap_controller_/);
  });

  it('lets a read-only token read, and refuses it changes with 403 naming the role', async () => {
    assert.equal((await call(controller.url, 'GET', '/v1/rollouts', { token: viewer })).status, 200);
    assert.equal((await call(controller.url, 'GET', '/v1/hosts', { token: viewer })).status, 200);
    const post = await call(controller.url, 'POST', '/v1/rollouts', { token: viewer, body: runbookBody('ro', [host]) });
    assert.equal(post.status, 403);
    assert.equal(post.body['error'], 'FORBIDDEN');
    assert.equal(post.body['requiredRole'], 'operator');
    assert.equal(
      post.body['message'],
      'POST /v1/rollouts needs the operator role; token "viewer" has the read-only role',
    );
    assert.equal(post.headers.get('www-authenticate'), 'Bearer realm="hotswap", error="insufficient_scope"');
  });

  it('lets an operator token change things', async () => {
    const created = await call(controller.url, 'POST', '/v1/rollouts', {
      token: operator,
      body: runbookBody('auth-ok', [host]),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    createdId = String(created.body['id']);
    assert.ok(createdId);
    const invalid = await call(controller.url, 'POST', '/v1/rollouts', { token: operator, body: { kind: 'Runbook' } });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body['error'], 'RUNBOOK_INVALID');
  });

  it('records every mutating call in the audit log, denied ones too, newest first', async () => {
    const unauthenticated = await call(controller.url, 'POST', '/v1/rollouts', { body: runbookBody('anon', [host]) });
    assert.equal(unauthenticated.status, 401);

    const entries = await audit();
    const seen = entries.map((e) => [e.who, e.role, e.method, e.path, e.status, e.outcome, e.error ?? null]);
    assert.deepEqual(seen, [
      [null, null, 'POST', '/v1/rollouts', 401, 'error', 'UNAUTHENTICATED'],
      ['ops', 'operator', 'POST', '/v1/rollouts', 400, 'error', 'RUNBOOK_INVALID'],
      ['ops', 'operator', 'POST', '/v1/rollouts', 201, 'ok', null],
      ['viewer', 'read-only', 'POST', '/v1/rollouts', 403, 'error', 'FORBIDDEN'],
    ]);
    const created = entries[2];
    assert.equal(created?.rolloutId, createdId);
    assert.equal(created?.runbook, 'auth-ok');
    for (const entry of entries) {
      assert.ok(Date.now() - Date.parse(entry.at) < 60_000, `at is a recent ISO time: ${entry.at}`);
      assert.equal(entry.remote?.endsWith('127.0.0.1'), true);
    }
    // Reads are not audited; ?limit applies; a bad limit is a 400 that says what is allowed.
    assert.equal((await audit(2)).length, 2);
    const bad = await call(controller.url, 'GET', '/v1/audit?limit=0', { token: viewer });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['message']), new RegExp(`limit must be an integer from 1 to ${AUDIT_CAPACITY}`));
    // The audit log is readable with read-only, and never without a token.
    assert.equal((await call(controller.url, 'GET', '/v1/audit')).status, 401);
  });

  it('keeps the audit list capped', async () => {
    const filler = JSON.stringify({ at: new Date(0).toISOString(), who: 'filler' });
    const pipeline = client.pipeline();
    for (let i = 0; i < AUDIT_CAPACITY; i++) pipeline.lpush(AUDIT_KEY, filler);
    await pipeline.exec();
    await call(controller.url, 'POST', '/v1/rollouts', { token: viewer, body: {} });
    assert.equal(await client.llen(AUDIT_KEY), AUDIT_CAPACITY);
    assert.equal((await audit(1))[0]?.who, 'viewer');
  });

  it('writes each audit entry to the log too, without the tokens', async () => {
    const log = readFileSync(controller.logFile, 'utf8');
    assert.match(log, /"msg":"audit"/);
    assert.match(log, /"msg":"api tokens loaded"/);
    assert.doesNotMatch(log, new RegExp(operator));
    assert.doesNotMatch(log, new RegExp(viewer));
  });

  it('runs open only when told to, loudly, with every caller an anonymous operator', async () => {
    const open = await startController({ REDIS_URL: redis.url, HOTSWAP_AUTH: 'open' });
    try {
      const answer = await call(open.url, 'POST', '/v1/rollouts', { body: { kind: 'Runbook' } });
      assert.equal(answer.status, 400, 'no token needed: the runbook itself is refused');
      const entries = await call<AuditEntry[]>(open.url, 'GET', '/v1/audit?limit=1');
      assert.equal(entries.body[0]?.who, 'anonymous');
      assert.equal(entries.body[0]?.role, 'operator');
      assert.match(readFileSync(open.logFile, 'utf8'), /"level":40,.*AUTHENTICATION IS OFF \(HOTSWAP_AUTH=open\)/);
    } finally {
      await open.stop();
    }
  });

  it('refuses to start without tokens unless HOTSWAP_AUTH=open, saying what to set', async () => {
    const refused = await runControllerToExit({ REDIS_URL: redis.url });
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '', 'never announced itself as listening');
    assert.match(refused.stderr, /"msg":"controller failed to start"/);
    assert.match(refused.stderr, /no API tokens configured: set HOTSWAP_TOKENS_FILE/);
    assert.match(refused.stderr, /HOTSWAP_AUTH=open/);

    const badFile = await runControllerToExit({ REDIS_URL: redis.url, HOTSWAP_TOKENS_FILE: join(dir, 'missing.yaml') });
    assert.equal(badFile.code, 1);
    assert.match(badFile.stderr, /HOTSWAP_TOKENS_FILE: cannot read .*missing\.yaml: ENOENT/);
  });
});
