import { Redis } from 'ioredis';
import type { AgentConfig } from '../config/agent.config.js';
import { logger } from '../logger.js';

/** Errors that retrying never fixes: wrong credentials, a server certificate that does not verify. */
const isCredentialError = (error: Error & { code?: string }): boolean =>
  /\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(error.message) ||
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(error.code ?? '');

/**
 * The agent's Redis connection, with the password and TLS CA from the config (a
 * redis://user:pass@ or rediss:// URL works as it is). BullMQ workers need
 * `maxRetriesPerRequest: null` (blocking commands must not time out).
 *
 * At boot it waits (up to `checkMs`) for the connection: credentials or a certificate that
 * Redis refuses stop the agent with a message saying which setting to check; an unreachable
 * Redis does not (the agent keeps retrying, as before).
 */
export async function redisConnection(
  config: Pick<AgentConfig, 'redisUrl' | 'redisPassword' | 'redisTlsCa'>,
  checkMs = 3000,
): Promise<Redis> {
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: null,
    lazyConnect: false,
    ...(config.redisPassword === undefined ? {} : { password: config.redisPassword }),
    ...(config.redisTlsCa === undefined ? {} : { tls: { ca: config.redisTlsCa } }),
  });
  let refused: Error | undefined;
  let settle = (): void => undefined;
  redis.on('error', (error: Error) => {
    logger.warn({ error: error.message }, 'redis connection error');
    if (isCredentialError(error)) {
      refused ??= error;
      settle();
    }
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, checkMs);
    settle = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', settle);
  });
  settle = () => undefined;
  if (refused && redis.status !== 'ready') {
    redis.disconnect();
    throw new Error(
      /WRONGPASS|NOAUTH|NOPERM/.test(refused.message)
        ? `Redis refused the credentials (${refused.message.trim()}): check REDIS_PASSWORD, REDIS_PASSWORD_FILE or the user and password in REDIS_URL`
        : `Redis TLS connection failed (${refused.message}): check REDIS_TLS_CA_FILE and the server's certificate`,
    );
  }
  return redis;
}
