import { z } from 'zod';

/**
 * The controller's configuration, read and validated once at boot from the environment.
 * Nothing else reads process.env: everything below receives this object.
 *
 *   REDIS_URL         Redis: a unix socket path or a redis:// URL (required)
 *   PORT              HTTP port (default 8080; 0 picks a free port, announced on stdout)
 *   HOST              address to listen on (default 127.0.0.1)
 *   JOB_TTL_SECONDS   how long a swap job stays valid (its `notAfter`), default 3600
 *   LOG_LEVEL         pino level (default info)
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
});

export type ControllerConfig = z.output<typeof configSchema>;

/** Names the variables in errors, so a bad value reads `PORT: ...` rather than `port: ...`. */
const ENV_NAMES: Record<keyof ControllerConfig, string> = {
  redisUrl: 'REDIS_URL',
  port: 'PORT',
  host: 'HOST',
  jobTtlSeconds: 'JOB_TTL_SECONDS',
  logLevel: 'LOG_LEVEL',
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
  });
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const key = issue.path[0] as keyof ControllerConfig | undefined;
    return `  ${key ? ENV_NAMES[key] : 'config'}: ${issue.message}`;
  });
  throw new ControllerConfigError(`invalid controller configuration:\n${lines.join('\n')}`);
}
