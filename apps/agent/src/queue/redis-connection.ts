import { parseRedisUrl } from '@hotswap/contracts';
import { Cluster, Redis } from 'ioredis';
import type { AgentConfig } from '../config/agent.config.js';
import { logger } from '../logger.js';

/**
 * One Redis, or a Redis Cluster when REDIS_URL is `redis+cluster://` (libs/contracts/src/redis-url.ts).
 * Everything the agent writes stays within one hash slot per command: its swap queue and the
 * census queue carry the host's hash tag, the event queue `{events}`, the registry `{registry}`.
 */
export type RedisClient = Redis | Cluster;

/** Errors that retrying never fixes: wrong credentials, a server certificate that does not verify. */
const isCredentialError = (error: Error & { code?: string }): boolean =>
  /\b(WRONGPASS|NOAUTH|NOPERM)\b/.test(error.message) ||
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(error.code ?? '');

/** A Redis Cluster client reports "Failed to refresh slots cache", with the nodes' answer in `lastNodeError`. */
const credentialErrorIn = (error: Error & { lastNodeError?: Error }): Error | undefined =>
  isCredentialError(error)
    ? error
    : error.lastNodeError instanceof Error && isCredentialError(error.lastNodeError)
      ? error.lastNodeError
      : undefined;

/**
 * The agent's Redis connection, with the password and TLS CA from the config (a
 * redis://user:pass@ or rediss:// URL works as it is, and so does a cluster URL's user and
 * password). BullMQ workers need `maxRetriesPerRequest: null` (blocking commands must not time
 * out); on a cluster BullMQ reads it from the per-node `redisOptions`.
 *
 * At boot it waits (up to `checkMs`) for the connection: credentials or a certificate that
 * Redis refuses stop the agent with a message saying which setting to check; an unreachable
 * Redis does not (the agent keeps retrying, as before).
 */
export async function redisConnection(
  config: Pick<AgentConfig, 'redisUrl' | 'redisPassword' | 'redisTlsCa'>,
  checkMs = 3000,
): Promise<RedisClient> {
  const redis = createClient(config);
  let refused: Error | undefined;
  let settle = (): void => undefined;
  redis.on('error', (error: Error & { lastNodeError?: Error }) => {
    logger.warn({ error: error.message, node: error.lastNodeError?.message }, 'redis connection error');
    const credentialError = credentialErrorIn(error);
    if (credentialError) {
      refused ??= credentialError;
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

function createClient(config: Pick<AgentConfig, 'redisUrl' | 'redisPassword' | 'redisTlsCa'>): RedisClient {
  const target = parseRedisUrl(config.redisUrl);
  const credentials = {
    ...(config.redisPassword === undefined ? {} : { password: config.redisPassword }),
    ...(config.redisTlsCa === undefined ? {} : { tls: { ca: config.redisTlsCa } }),
  };
  if (target.kind === 'single') {
    return new Redis(config.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false, ...credentials });
  }
  return new Cluster(
    target.nodes.map(({ host, port }) => ({ host, port })),
    {
      redisOptions: {
        maxRetriesPerRequest: null,
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
        ...credentials,
        ...(target.tls ? { tls: credentials.tls ?? {} } : {}),
      },
    },
  );
}
