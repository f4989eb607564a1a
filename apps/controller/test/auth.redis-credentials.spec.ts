import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startPrivateRedis, type PrivateRedis } from '@hotswap/tools';
import { ControllerConfigError, loadControllerConfig } from '../src/controller.config.js';
import { loadRedisCredentials, redisCredentialOptions } from '../src/redis/redis-credentials.js';
import { call, newToken, runControllerToExit, startController } from './auth-harness.js';

/**
 * Redis credentials for the controller: REDIS_PASSWORD / REDIS_PASSWORD_FILE against a
 * private redis-server started with --requirepass, a wrong or missing password refused at
 * boot with a message that says what to check (and never the password), and rediss:// with
 * REDIS_TLS_CA_FILE against a TLS redis-server whose certificates the test makes with openssl.
 */

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function credentialProblems(env: Record<string, string>, files: Record<string, string> = {}): string[] {
  const problems: string[] = [];
  loadRedisCredentials(
    env,
    (variable, message) => problems.push(`${variable}: ${message}`),
    (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return text;
    },
  );
  return problems;
}

describe('loadRedisCredentials', () => {
  it('takes the password inline or from a file, and the CA from a file', () => {
    const read = (path: string): string => ({ '/pw': 'from-file\n', '/ca.pem': PEM })[path] ?? '';
    assert.deepEqual(loadRedisCredentials({ REDIS_PASSWORD: 'p' }, assert.fail, read), {
      redisPassword: 'p',
      redisTlsCa: undefined,
    });
    const fromFiles = loadRedisCredentials(
      { REDIS_URL: 'rediss://redis:6380', REDIS_PASSWORD_FILE: '/pw', REDIS_TLS_CA_FILE: '/ca.pem' },
      assert.fail,
      read,
    );
    assert.deepEqual(fromFiles, { redisPassword: 'from-file', redisTlsCa: PEM });
    assert.deepEqual(redisCredentialOptions(fromFiles), { password: 'from-file', tls: { ca: PEM } });
    assert.deepEqual(redisCredentialOptions({ redisPassword: undefined, redisTlsCa: undefined }), {});
  });

  it('refuses ambiguous or unusable settings, naming the variable', () => {
    assert.deepEqual(credentialProblems({ REDIS_PASSWORD: 'a', REDIS_PASSWORD_FILE: '/pw' }, { '/pw': 'b' }), [
      'REDIS_PASSWORD_FILE: set REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both',
    ]);
    assert.deepEqual(credentialProblems({ REDIS_URL: 'redis://:inurl@r:6379', REDIS_PASSWORD: 'b' }), [
      'REDIS_PASSWORD: REDIS_URL already carries a password: give it in one place only',
    ]);
    assert.deepEqual(credentialProblems({ REDIS_PASSWORD_FILE: '/empty' }, { '/empty': '\n' }), [
      'REDIS_PASSWORD_FILE: /empty is empty',
    ]);
    assert.deepEqual(credentialProblems({ REDIS_URL: '/run/redis.sock', REDIS_TLS_CA_FILE: '/ca' }, { '/ca': PEM }), [
      'REDIS_TLS_CA_FILE: needs a rediss:// REDIS_URL (TLS)',
    ]);
    assert.deepEqual(credentialProblems({ REDIS_URL: 'rediss://r', REDIS_TLS_CA_FILE: '/ca' }, { '/ca': 'junk' }), [
      'REDIS_TLS_CA_FILE: /ca holds no PEM certificate',
    ]);
    assert.deepEqual(credentialProblems({ REDIS_PASSWORD_FILE: '/nope' }), [
      'REDIS_PASSWORD_FILE: cannot read /nope: ENOENT',
    ]);
  });

  it('reads a Redis Cluster URL the same way: its password, its TLS, what is wrong with it', () => {
    assert.deepEqual(
      credentialProblems({ REDIS_URL: 'rediss+cluster://h1:6379,h2:6379', REDIS_TLS_CA_FILE: '/ca' }, { '/ca': PEM }),
      [],
    );
    assert.deepEqual(credentialProblems({ REDIS_URL: 'redis+cluster://:inurl@h1:6379', REDIS_PASSWORD: 'b' }), [
      'REDIS_PASSWORD: REDIS_URL already carries a password: give it in one place only',
    ]);
    assert.deepEqual(
      credentialProblems({ REDIS_URL: 'redis+cluster://h1:6379', REDIS_TLS_CA_FILE: '/ca' }, { '/ca': PEM }),
      ['REDIS_TLS_CA_FILE: needs a rediss:// REDIS_URL (TLS)'],
    );
    assert.deepEqual(credentialProblems({ REDIS_URL: 'redis+cluster://:inurl@h1' }), [
      'REDIS_URL: cluster node "h1" is not host:port (a redis+cluster:// URL lists host:port,host:port)',
    ]);
  });

  it('reports them with the rest of the configuration, without the password', () => {
    assert.throws(
      () =>
        loadControllerConfig({
          REDIS_URL: 'redis://:hunter2-in-url@r:6379',
          REDIS_PASSWORD: 'hunter2-in-env',
          HOTSWAP_AUTH: 'open',
          PORT: 'x',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ControllerConfigError);
        assert.match(error.message, /PORT:/);
        assert.match(error.message, /REDIS_PASSWORD: REDIS_URL already carries a password/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
  });
});

describe('the controller against a Redis that requires a password', { timeout: 60_000 }, () => {
  const password = randomBytes(12).toString('hex');
  const token = newToken();
  let redis: PrivateRedis;
  let dir = '';

  before(async () => {
    redis = await startPrivateRedis({ password });
    dir = mkdtempSync(join(tmpdir(), 'hotswap-redis-pw-'));
  });
  after(async () => {
    await redis?.stop().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects with REDIS_PASSWORD, and never logs it', async () => {
    const controller = await startController({
      REDIS_URL: redis.url,
      REDIS_PASSWORD: password,
      HOTSWAP_TOKENS: `ops:operator:${token}`,
      LOG_LEVEL: 'trace',
    });
    try {
      assert.deepEqual((await call(controller.url, 'GET', '/healthz')).body, { status: 'ok', redis: 'up' });
      const rollouts = await call(controller.url, 'GET', '/v1/rollouts', { token });
      assert.equal(rollouts.status, 200);
      await call(controller.url, 'POST', '/v1/rollouts', { token, body: {} });
      const audit = await call<unknown[]>(controller.url, 'GET', '/v1/audit', { token });
      assert.equal(audit.body.length, 1, 'the audit entry went to the password-protected Redis');
    } finally {
      await controller.stop();
    }
  });

  it('reads the password from REDIS_PASSWORD_FILE', async () => {
    const file = join(dir, 'redis-password');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    const controller = await startController({
      REDIS_URL: redis.url,
      REDIS_PASSWORD_FILE: file,
      HOTSWAP_TOKENS: `ops:operator:${token}`,
    });
    try {
      assert.deepEqual((await call(controller.url, 'GET', '/healthz')).body, { status: 'ok', redis: 'up' });
      assert.doesNotMatch(readFileSync(controller.logFile, 'utf8'), new RegExp(password));
    } finally {
      await controller.stop();
    }
  });

  it('refuses to start with a wrong password, saying what to check', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const refused = await runControllerToExit({ REDIS_URL: redis.url, REDIS_PASSWORD: wrong, HOTSWAP_AUTH: 'open' });
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(
      refused.stderr,
      /"msg":"controller failed to start","error":"Redis refused the credentials \(WRONGPASS[^)]*\): check REDIS_PASSWORD, REDIS_PASSWORD_FILE or the user and password in REDIS_URL"/,
    );
    assert.doesNotMatch(refused.stderr, new RegExp(wrong));
  });

  it('refuses to start without a password', async () => {
    const refused = await runControllerToExit({ REDIS_URL: redis.url, HOTSWAP_AUTH: 'open' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Redis refused the credentials \(NOAUTH/);
  });
});

/** A free TCP port on loopback (closed again before redis-server takes it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function listening(port: number, timeoutMs = 5000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe(
  'the controller against a TLS Redis (rediss://)',
  { timeout: 60_000, skip: !hasOpenssl() && 'no openssl' },
  () => {
    const password = randomBytes(12).toString('hex');
    let dir = '';
    let server: ChildProcess | undefined;
    let url = '';

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'hotswap-redis-tls-'));
      const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      // A private CA, and a server certificate it signed for 127.0.0.1.
      const key = ['-newkey', 'rsa:2048', '-nodes'];
      ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=hotswap test CA', '-days', '1');
      writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
      ssl('req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
      const signed = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext'];
      ssl('x509', '-req', '-in', 'server.csr', ...signed, '-out', 'server.pem');
      const port = await freePort();
      server = spawn(
        'redis-server',
        [
          ...['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
          ...['--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key')],
          ...['--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no', '--requirepass', password],
        ],
        { stdio: 'ignore' },
      );
      url = `rediss://127.0.0.1:${port}`;
      await listening(port);
    });

    after(async () => {
      if (server && server.exitCode === null) {
        const gone = new Promise((resolve) => server?.once('exit', resolve));
        server.kill('SIGTERM');
        await gone;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('connects with REDIS_TLS_CA_FILE and the password', async () => {
      const controller = await startController({
        REDIS_URL: url,
        REDIS_TLS_CA_FILE: join(dir, 'ca.pem'),
        REDIS_PASSWORD: password,
        HOTSWAP_AUTH: 'open',
      });
      try {
        assert.deepEqual((await call(controller.url, 'GET', '/healthz')).body, { status: 'ok', redis: 'up' });
      } finally {
        await controller.stop();
      }
    });

    it('refuses to start when the server certificate does not verify', async () => {
      const refused = await runControllerToExit({ REDIS_URL: url, REDIS_PASSWORD: password, HOTSWAP_AUTH: 'open' });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /Redis TLS connection failed \([A-Z_]+: .*\): check REDIS_TLS_CA_FILE/);
    });
  },
);
