import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EVENTS_PREFIX, HOSTS_KEY, hostKey, hostQueuePrefix } from '@hotswap/contracts';
import { startPrivateRedisCluster, type PrivateRedisCluster } from '@hotswap/tools';
import type { Cluster } from 'ioredis';
import { AUDIT_KEY, AuditLog } from '../src/audit/audit.log.js';
import { HostRegistryStore } from '../src/hosts/host-registry.store.js';
import type { Logger } from '../src/logging/controller.logger.js';
import { createRedisClient } from '../src/redis/redis-client.js';
import { checkRedisCredentials } from '../src/redis/redis-credentials.js';
import { hostClaimKey } from '../src/rollouts/host-claims.store.js';
import { eventsKey, reportsKey, rolloutKey, ROLLOUTS_INDEX_KEY, stepsKey } from '../src/rollouts/rollout.store.js';
import { RUNBOOKS_KEY, RunbookStore } from '../src/runbooks/runbook.store.js';
import { CONTROLLER_PREFIX } from '../src/scheduling/controller.queue.js';
import { call, newToken, runControllerToExit, startController } from './auth-harness.js';
import { heartbeat } from './controller-harness.js';
import { runbookFor } from './fixtures.js';

/**
 * The controller on a private three-node Redis Cluster with a password: the keys that one
 * command, MULTI or Lua script touches share a slot, the hash tags spread over the nodes, the
 * registry and the stores work through a cluster client, and a controller process given a
 * redis+cluster:// URL serves them (and refuses a wrong password at boot, as on one Redis).
 * The rollout store's compare-and-set runs on the cluster in rollout.store.spec.ts, the whole
 * rollout in test/e2e/rollout-waves.e2e.spec.ts.
 */
describe('createRedisClient', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  it('gives a cluster client every node its credentials, TLS and retry policy', () => {
    const client = createRedisClient(
      { redisUrl: 'rediss+cluster://ops:p%40ss@127.0.0.1:1,127.0.0.1:2', redisPassword: undefined, redisTlsCa: PEM },
      { maxRetriesPerRequest: null, connectionName: 'options-test' },
    ) as Cluster;
    client.on('error', () => undefined);
    client.disconnect();
    assert.equal(client.isCluster, true);
    const { username, password, tls, maxRetriesPerRequest } = client.options.redisOptions ?? {};
    assert.deepEqual([username, password, tls, maxRetriesPerRequest], ['ops', 'p@ss', { ca: PEM }, null]);
  });

  it('turns TLS on for rediss+cluster:// without a CA file, and keeps one Redis a plain client', () => {
    const tls = createRedisClient(
      { redisUrl: 'rediss+cluster://127.0.0.1:1', redisPassword: 'pw', redisTlsCa: undefined },
      { maxRetriesPerRequest: 1, connectionName: 'options-test' },
    ) as Cluster;
    tls.on('error', () => undefined);
    tls.disconnect();
    assert.deepEqual([tls.options.redisOptions?.tls, tls.options.redisOptions?.password], [{}, 'pw']);
    const single = createRedisClient(
      { redisUrl: 'redis://127.0.0.1:1', redisPassword: undefined, redisTlsCa: undefined },
      { maxRetriesPerRequest: 1, connectionName: 'options-test' },
    );
    single.on('error', () => undefined);
    single.disconnect();
    assert.equal(single.isCluster, false);
  });
});

describe('the controller on a three-node Redis Cluster', { timeout: 90_000 }, () => {
  const password = randomBytes(12).toString('hex');
  let cluster: PrivateRedisCluster;
  let client: Cluster;

  before(async () => {
    cluster = await startPrivateRedisCluster({ password });
    client = createRedisClient(
      { redisUrl: cluster.url, redisPassword: password, redisTlsCa: undefined },
      { maxRetriesPerRequest: 1, connectionName: 'cluster-test' },
    ) as Cluster;
    await checkRedisCredentials(client);
  });
  after(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  const slot = async (key: string): Promise<number> => Number(await client.cluster('KEYSLOT', key));
  /** The master serving a key, as `host:port`. */
  const nodeOf = async (key: string): Promise<string> => client.slots[await slot(key)]![0]!;

  it('keeps what one command touches in one slot, and spreads the hash tags over the nodes', async () => {
    const rollout = 'r-0123456789ab';
    const together: Record<string, string[]> = {
      'a rollout (commit script, MULTI, steps pipeline)': [
        rolloutKey(rollout),
        eventsKey(rollout),
        reportsKey(rollout),
        stepsKey(rollout, 'host-a'),
        stepsKey(rollout, 'host-b'),
      ],
      'the registry (the heartbeat MULTI)': [HOSTS_KEY, hostKey('host-a'), hostKey('host-b')],
      "a host's queues (BullMQ scripts)": [
        `${hostQueuePrefix('host-a')}:swaps:wait`,
        `${hostQueuePrefix('host-a')}:census:wait`,
      ],
      'the event queue': [`${EVENTS_PREFIX}:events:wait`, `${EVENTS_PREFIX}:events:meta`],
      "the controller's queue": [`${CONTROLLER_PREFIX}:controller:wait`, `${CONTROLLER_PREFIX}:controller:delayed`],
    };
    for (const [what, keys] of Object.entries(together)) {
      const slots = new Set(await Promise.all(keys.map(slot)));
      assert.equal(slots.size, 1, `${what}: ${keys.join(', ')} span slots ${[...slots].join(', ')}`);
    }
    const tagged = [
      ...Object.values(together).map((keys) => keys[0]!),
      ...['host-b', 'host-c', 'host-d'].map((host) => `${hostQueuePrefix(host)}:swaps:wait`),
      ...[ROLLOUTS_INDEX_KEY, RUNBOOKS_KEY, AUDIT_KEY, hostClaimKey('host-a')],
    ];
    const nodes = new Set(await Promise.all(tagged.map(nodeOf)));
    assert.equal(nodes.size, 3, `the keys landed on ${[...nodes].join(', ')} only`);
  });

  it('the registry: heartbeats written as agents write them read back through the cluster', async () => {
    await heartbeat(client, 'host-a', { rack: 'r1' });
    await heartbeat(client, 'host-b', { rack: 'r2' });
    const registry = new HostRegistryStore(client);
    const now = Date.now();
    assert.deepEqual(
      (await registry.list(now)).map((h) => [h.hostId, h.labels['rack'], h.available]),
      [
        ['host-a', 'r1', true],
        ['host-b', 'r2', true],
      ],
    );
    assert.equal((await registry.get('host-b', now))?.labels['rack'], 'r2');
    assert.deepEqual(
      [...(await registry.availability(['host-a', 'host-z'], now))],
      [
        ['host-a', true],
        ['host-z', false],
      ],
    );
    assert.deepEqual(await registry.unregistered(['host-a', 'host-z']), ['host-z']);
    assert.deepEqual(await registry.countByAvailability(now), { available: 2, unavailable: 0 });
  });

  it('runbooks (a compare-and-set script on one hash) and the audit log (a MULTI on one list)', async () => {
    const runbooks = new RunbookStore(client);
    const runbook = runbookFor('cluster-runbook', ['host-a']);
    assert.equal((await runbooks.put(runbook, 1000)).stored.revision, 1);
    assert.equal((await runbooks.put(runbook, 2000)).stored.revision, 2);
    assert.deepEqual(
      (await runbooks.list()).map((r) => [r.name, r.revision]),
      [['cluster-runbook', 2]],
    );
    const quiet = { info: () => undefined, error: () => undefined } as unknown as Logger;
    const audit = new AuditLog(client, quiet);
    const entry = { at: new Date().toISOString(), who: 'ops', role: 'operator' as const, method: 'POST' };
    await audit.record({ ...entry, path: '/v1/rollouts', status: 201, outcome: 'ok' });
    await audit.record({ ...entry, path: '/v1/runbooks', status: 400, outcome: 'error', error: 'RUNBOOK_INVALID' });
    assert.deepEqual(
      (await audit.list(10)).map((e) => e.path),
      ['/v1/runbooks', '/v1/rollouts'],
    );
  });

  it('a controller process takes a redis+cluster:// URL and REDIS_PASSWORD', async () => {
    const token = newToken();
    const controller = await startController({
      REDIS_URL: cluster.url,
      REDIS_PASSWORD: password,
      HOTSWAP_TOKENS: `ops:operator:${token}`,
    });
    try {
      assert.deepEqual((await call(controller.url, 'GET', '/healthz')).body, { status: 'ok', redis: 'up' });
      const hosts = await call<{ hostId: string }[]>(controller.url, 'GET', '/v1/hosts', { token });
      assert.deepEqual(
        hosts.body.map((h) => h.hostId),
        ['host-a', 'host-b'],
      );
      const refused = await call(controller.url, 'POST', '/v1/rollouts', { token, body: {} });
      assert.equal(refused.status, 400);
      const audit = await call<{ path: string; status: number }[]>(controller.url, 'GET', '/v1/audit?limit=1', {
        token,
      });
      assert.deepEqual(
        audit.body.map((e) => [e.path, e.status]),
        [['/v1/rollouts', 400]],
      );
    } finally {
      await controller.stop();
    }
  });

  it('a controller refuses a wrong cluster password at boot, saying what to check', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const refused = await runControllerToExit({ REDIS_URL: cluster.url, REDIS_PASSWORD: wrong, HOTSWAP_AUTH: 'open' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Redis refused the credentials \(WRONGPASS[^)]*\): check REDIS_PASSWORD/);
    assert.doesNotMatch(refused.stderr, new RegExp(wrong));
  });
});
