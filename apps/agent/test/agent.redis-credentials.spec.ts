import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HOSTS_KEY } from '@hotswap/contracts';
import {
  paths,
  startFleetProcess,
  startPrivateRedis,
  startPrivateRedisCluster,
  type PrivateRedis,
  type PrivateRedisCluster,
} from '@hotswap/tools';
import { Cluster, Redis } from 'ioredis';
import { loadAgentConfig } from '../src/config/agent.config.js';

const run = promisify(execFile);
const SIM = ['--kernel', 'sim', '--scenario', join(paths.scenarios, 'misc-driver-owned.yaml')];
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('agent Redis credentials: configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-agent-cred-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes REDIS_PASSWORD, or a password file and a CA file by flag or variable', () => {
    const pw = join(dir, 'pw');
    const ca = join(dir, 'ca.pem');
    writeFileSync(pw, 'from-file\n');
    writeFileSync(ca, PEM);
    const inline = loadAgentConfig(SIM, { REDIS_URL: '/run/redis.sock', REDIS_PASSWORD: 'p' });
    assert.equal(inline.redisPassword, 'p');
    assert.equal(inline.redisTlsCa, undefined);
    const files = loadAgentConfig([...SIM, '--redis-password-file', pw, '--redis-tls-ca-file', ca], {
      REDIS_URL: 'rediss://redis:6380',
    });
    assert.equal(files.redisPassword, 'from-file');
    assert.equal(files.redisTlsCa, PEM);
    assert.equal(loadAgentConfig(SIM, { REDIS_URL: '/run/redis.sock' }).redisPassword, undefined);
    const cluster = loadAgentConfig([...SIM, '--redis-tls-ca-file', ca], {
      REDIS_URL: 'rediss+cluster://10.0.0.1:6379,10.0.0.2:6379',
      REDIS_PASSWORD: 'p',
    });
    assert.deepEqual([cluster.redisPassword, cluster.redisTlsCa], ['p', PEM]);
  });

  it('refuses a cluster URL it cannot use, or a password given twice', () => {
    assert.throws(
      () => loadAgentConfig(SIM, { REDIS_URL: 'redis+cluster://:secret-in-url@h1:6379,h2', REDIS_PASSWORD: 'p' }),
      /REDIS_URL: cluster node "h2" is not host:port/,
    );
    assert.throws(
      () => loadAgentConfig(SIM, { REDIS_URL: 'redis+cluster://:secret-in-url@h1:6379', REDIS_PASSWORD: 'p' }),
      /REDIS_PASSWORD: REDIS_URL already carries a password/,
    );
  });

  it('names what is wrong, never the password', () => {
    assert.throws(
      () =>
        loadAgentConfig([...SIM, '--redis-tls-ca-file', join(dir, 'none.pem')], {
          REDIS_URL: 'redis://:secret-in-url@r:6379',
          REDIS_PASSWORD: 'secret-in-env',
        }),
      (error: Error) => {
        assert.match(error.message, /REDIS_PASSWORD: REDIS_URL already carries a password/);
        assert.match(error.message, /REDIS_TLS_CA_FILE: needs a rediss:\/\/ REDIS_URL/);
        assert.match(error.message, /REDIS_TLS_CA_FILE: cannot read .*none\.pem: ENOENT/);
        assert.doesNotMatch(error.message, /secret-in/);
        return true;
      },
    );
  });
});

describe('agent Redis credentials: a real agent against a Redis with --requirepass', { timeout: 60_000 }, () =>
  realAgent((password) => startPrivateRedis({ password })),
);
describe(
  'agent Redis credentials: a real agent against a three-node Redis Cluster with a password',
  { timeout: 60_000 },
  () => realAgent((password) => startPrivateRedisCluster({ password })),
);

function realAgent(startRedis: (password: string) => Promise<PrivateRedis | PrivateRedisCluster>): void {
  const password = randomBytes(12).toString('hex');
  let redis: PrivateRedis | PrivateRedisCluster;
  let dir = '';

  before(async () => {
    redis = await startRedis(password);
    dir = mkdtempSync(join(tmpdir(), 'hotswap-agent-pw-'));
  });
  after(async () => {
    await redis?.stop().catch(() => undefined);
    // The agents started a simulated host under this state dir; it outlives them by design
    // (a host outlives its agent), so the test stops it.
    if (dir) spawnSync('pkill', ['-f', `${dir}/sim-host.sock`]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('registers its host with the right password', async () => {
    const agent = await startFleetProcess('agent', [paths.agentMain, ...SIM, '--state-dir', dir, '--port', '0'], {
      env: { REDIS_URL: redis.url, REDIS_PASSWORD: password, LOG_LEVEL: 'warn' },
      logFile: join(dir, 'agent.log'),
    });
    const client =
      'nodes' in redis
        ? new Cluster([...redis.nodes], { redisOptions: { password } })
        : new Redis(redis.url, { password, maxRetriesPerRequest: null });
    try {
      const hostId = String(agent.ready['hostId']);
      assert.notEqual(await client.zscore(HOSTS_KEY, hostId), null, 'the heartbeat reached Redis');
    } finally {
      client.disconnect();
      await agent.stop();
    }
  });

  it('stops at start with a wrong password, saying what to check', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const failed = await run(process.execPath, [paths.agentMain, ...SIM, '--state-dir', dir, '--port', '0'], {
      env: { ...process.env, REDIS_URL: redis.url, REDIS_PASSWORD: wrong },
      timeout: 20_000,
    }).then(
      () => assert.fail('the agent started'),
      (error: { code?: number; stdout: string; stderr: string }) => error,
    );
    assert.equal(failed.code, 1);
    assert.doesNotMatch(failed.stdout, /agent listening/);
    assert.match(failed.stderr, /Redis refused the credentials \(WRONGPASS[^)]*\): check REDIS_PASSWORD/);
    assert.doesNotMatch(failed.stderr, new RegExp(wrong));
  });
}
