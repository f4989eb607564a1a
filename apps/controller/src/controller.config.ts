import { z } from 'zod';
import { AuthConfigError, loadAuthConfig, type AuthConfig } from './auth/auth.config.js';
import { loadRedisCredentials, type RedisCredentials } from './redis/redis-credentials.js';

/**
 * The controller's configuration, read and validated once at boot from the environment.
 * Nothing else reads process.env: everything below receives this object.
 *
 *   REDIS_URL         Redis: a unix socket path or a redis:// URL (required)
 *   PORT              HTTP port (default 8080; 0 picks a free port, announced on stdout)
 *   HOST              address to listen on (default 127.0.0.1)
 *   JOB_TTL_SECONDS   how long a swap job stays valid (its `notAfter`), default 3600
 *   LOG_LEVEL         pino level (default info)
 *   PROMETHEUS_URL    base URL of the Prometheus that runbooks' Prometheus gates query (optional;
 *                     without it such a gate records status `error` and holds the rollout)
 *   SWEEP_SECONDS     how often one replica re-examines every unfinished rollout (default 10)
 *   CENSUS_TIMEOUT_MS how long a live census (GET /v1/hosts/:id/holders, a dry run) waits for a
 *                     host's agent to answer (default 3000)
 *   REDIS_PASSWORD, REDIS_PASSWORD_FILE, REDIS_TLS_CA_FILE   see redis/redis-credentials.ts
 *   HOTSWAP_TOKENS_FILE, HOTSWAP_TOKENS, HOTSWAP_AUTH         see auth/auth.config.ts
 */

/** An empty variable means "not set": `PORT=` must not silently become port 0. */
const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

const configSchema = z.object({
  redisUrl: z.preprocess(unsetIfEmpty, z.string({ error: 'REDIS_URL is required (a socket path or redis:// URL)' })),
  port: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(65535).default(8080)),
  host: z.preprocess(unsetIfEmpty, z.string().default('127.0.0.1')),
  jobTtlSeconds: z.preprocess(unsetIfEmpty, z.coerce.number().int().positive().default(3600)),
  logLevel: z.preprocess(
    unsetIfEmpty,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  prometheusUrl: z.preprocess(
    unsetIfEmpty,
    z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .transform((url) => url.replace(/\/+$/, ''))
      .nullable()
      .default(null),
  ),
  sweepSeconds: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(3600).default(10)),
  censusTimeoutMs: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(100).max(60_000).default(3000)),
});

export type ControllerConfig = z.output<typeof configSchema> & RedisCredentials & { readonly auth: AuthConfig };

/** Names the variables in errors, so a bad value reads `PORT: ...` rather than `port: ...`. */
const ENV_NAMES: Record<keyof z.output<typeof configSchema>, string> = {
  redisUrl: 'REDIS_URL',
  port: 'PORT',
  host: 'HOST',
  jobTtlSeconds: 'JOB_TTL_SECONDS',
  logLevel: 'LOG_LEVEL',
  prometheusUrl: 'PROMETHEUS_URL',
  sweepSeconds: 'SWEEP_SECONDS',
  censusTimeoutMs: 'CENSUS_TIMEOUT_MS',
};

export class ControllerConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  override readonly name = 'ControllerConfigError';
}

export function loadControllerConfig(env: Readonly<Record<string, string | undefined>>): ControllerConfig {
  const parsed = configSchema.safeParse({
    redisUrl: env['REDIS_URL'],
    port: env['PORT'],
    host: env['HOST'],
    jobTtlSeconds: env['JOB_TTL_SECONDS'],
    logLevel: env['LOG_LEVEL'],
    prometheusUrl: env['PROMETHEUS_URL'],
    sweepSeconds: env['SWEEP_SECONDS'],
    censusTimeoutMs: env['CENSUS_TIMEOUT_MS'],
  });
  const problems: string[] = [];
  const credentials = loadRedisCredentials(env, (variable, message) => problems.push(`  ${variable}: ${message}`));
  let auth: AuthConfig | undefined;
  try {
    auth = loadAuthConfig(env);
  } catch (error) {
    if (!(error instanceof AuthConfigError)) throw error;
    problems.push(...error.problems.map((p) => `  ${p.variable}: ${p.message}`));
  }
  if (parsed.success && auth && problems.length === 0) return { ...parsed.data, ...credentials, auth };
  const lines = (parsed.success ? [] : parsed.error.issues).map((issue) => {
    const key = issue.path[0] as keyof typeof ENV_NAMES | undefined;
    return `  ${key ? ENV_NAMES[key] : 'config'}: ${issue.message}`;
  });
  throw new ControllerConfigError(`invalid controller configuration:\n${[...lines, ...problems].join('\n')}`);
}
