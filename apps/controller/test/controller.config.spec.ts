import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControllerConfigError, loadControllerConfig } from '../src/controller.config.js';

/** The controller refuses to start without API tokens unless told to run open (see auth.config.spec). */
const OPEN = { HOTSWAP_AUTH: 'open' };
const UNSET = {
  prometheusUrl: null,
  sweepSeconds: 10,
  censusTimeoutMs: 3000,
  redisPassword: undefined,
  redisTlsCa: undefined,
};

describe('loadControllerConfig', () => {
  it('applies the defaults', () => {
    assert.deepEqual(loadControllerConfig({ REDIS_URL: '/run/redis.sock', ...OPEN }), {
      redisUrl: '/run/redis.sock',
      port: 8080,
      host: '127.0.0.1',
      jobTtlSeconds: 3600,
      logLevel: 'info',
      ...UNSET,
      auth: { mode: 'open' },
    });
  });

  it('reads every variable; an empty one counts as unset', () => {
    const config = loadControllerConfig({
      REDIS_URL: 'redis://r:6379',
      PORT: '0',
      HOST: '0.0.0.0',
      JOB_TTL_SECONDS: '60',
      LOG_LEVEL: 'warn',
      ...OPEN,
    });
    assert.deepEqual(config, {
      redisUrl: 'redis://r:6379',
      port: 0,
      host: '0.0.0.0',
      jobTtlSeconds: 60,
      logLevel: 'warn',
      ...UNSET,
      auth: { mode: 'open' },
    });
    assert.equal(loadControllerConfig({ REDIS_URL: 'x', PORT: '', ...OPEN }).port, 8080);
  });

  it('names the variables that are wrong', () => {
    assert.throws(
      () => loadControllerConfig({ PORT: 'http', JOB_TTL_SECONDS: '-5', LOG_LEVEL: 'loud', CENSUS_TIMEOUT_MS: '50' }),
      (error: unknown) => {
        assert.ok(error instanceof ControllerConfigError);
        for (const name of ['REDIS_URL', 'PORT', 'JOB_TTL_SECONDS', 'LOG_LEVEL', 'CENSUS_TIMEOUT_MS'])
          assert.match(error.message, new RegExp(`${name}:`));
        return true;
      },
    );
  });
});
