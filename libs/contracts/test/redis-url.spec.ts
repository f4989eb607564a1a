import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisUrlError, isRedisClusterUrl, parseRedisUrl } from '../src/index.js';

describe('parseRedisUrl', () => {
  it('passes a socket path and single-node URLs through, noting TLS and a password', () => {
    assert.deepEqual(parseRedisUrl('/run/redis/redis.sock'), {
      kind: 'single',
      url: '/run/redis/redis.sock',
      tls: false,
      hasPassword: false,
    });
    assert.deepEqual(parseRedisUrl('redis://10.0.0.5:6379/2'), {
      kind: 'single',
      url: 'redis://10.0.0.5:6379/2',
      tls: false,
      hasPassword: false,
    });
    const tls = parseRedisUrl('rediss://hotswap:s3cret@redis.example:6380');
    assert.deepEqual([tls.kind, tls.tls, tls.kind === 'single' && tls.hasPassword], ['single', true, true]);
  });

  it('takes a cluster URL apart: seed nodes, user, password (percent-decoded), TLS', () => {
    assert.deepEqual(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002'), {
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
      username: undefined,
      password: undefined,
    });
    assert.deepEqual(parseRedisUrl('rediss+cluster://hotswap:p%40ss%3Aword@redis-0.redis:6379/'), {
      kind: 'cluster',
      nodes: [{ host: 'redis-0.redis', port: 6379 }],
      tls: true,
      username: 'hotswap',
      password: 'p@ss:word',
    });
    const passwordOnly = parseRedisUrl('REDIS+CLUSTER://:pw@h:1');
    assert.deepEqual(passwordOnly.kind === 'cluster' && [passwordOnly.username, passwordOnly.password], [
      undefined,
      'pw',
    ]);
  });

  it('recognises cluster URLs by their scheme', () => {
    assert.equal(isRedisClusterUrl('redis+cluster://h:1'), true);
    assert.equal(isRedisClusterUrl('rediss+cluster://h:1'), true);
    assert.equal(isRedisClusterUrl('redis://h:1'), false);
    assert.equal(isRedisClusterUrl('/tmp/redis.sock'), false);
  });

  it('refuses what it cannot connect to, without repeating the password', () => {
    const refuses = (url: string, message: RegExp): void => {
      assert.throws(
        () => parseRedisUrl(url),
        (error: unknown) =>
          error instanceof RedisUrlError && message.test(error.message) && !error.message.includes('s3cret'),
        url,
      );
    };
    refuses('redis+cluster://:s3cret@h1:7000,h2', /cluster node "h2" is not host:port/);
    refuses('redis+cluster://:s3cret@h1:70000', /is not host:port/);
    refuses('redis+cluster://:s3cret@', /cluster node "" is not host:port/);
    refuses('redis+cluster://:s3cret@h1:7000/3', /no database/);
    refuses('http://:s3cret@h1:7000', /unknown scheme in http:\/\/\.\.\./);
    refuses('redis://:s3cret@h1:port', /not a valid URL/);
  });
});
