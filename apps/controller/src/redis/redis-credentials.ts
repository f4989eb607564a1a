import { readFileSync } from 'node:fs';
import { RedisUrlError, parseRedisUrl, type RedisTarget } from '@hotswap/contracts';
import type { RedisOptions } from 'ioredis';

/**
 * Redis credentials beside REDIS_URL, read once at boot (from controller.config.ts):
 *
 *   REDIS_URL            may carry them itself: redis://user:pass@host:port, rediss:// for TLS
 *                        (redis+cluster://user:pass@host:port,host:port and rediss+cluster:// alike)
 *   REDIS_PASSWORD       the password (or ACL user's password; the user name goes in the URL)
 *   REDIS_PASSWORD_FILE  a file holding it (a trailing newline is ignored): keeps it out of the
 *                        environment, for systemd credentials or Kubernetes secrets
 *   REDIS_TLS_CA_FILE    PEM CA bundle to verify the server with (a rediss:// URL only; without
 *                        it the system's CAs are used)
 *
 * Never logged: the logger redacts `redisPassword` and `redisUrl`.
 */
export interface RedisCredentials {
  readonly redisPassword: string | undefined;
  readonly redisTlsCa: string | undefined;
}

export function loadRedisCredentials(
  env: Readonly<Record<string, string | undefined>>,
  problem: (variable: string, message: string) => void,
  readText: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): RedisCredentials {
  const target = parseTarget(env['REDIS_URL'], problem);
  const read = (variable: string, path: string): string | undefined => {
    try {
      return readText(path);
    } catch (error) {
      problem(variable, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return undefined;
    }
  };

  let redisPassword = env['REDIS_PASSWORD'] || undefined;
  const passwordFile = env['REDIS_PASSWORD_FILE'];
  if (passwordFile) {
    if (redisPassword !== undefined)
      problem('REDIS_PASSWORD_FILE', 'set REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both');
    redisPassword = read('REDIS_PASSWORD_FILE', passwordFile)?.replace(/\r?\n$/, '');
    if (redisPassword === '') problem('REDIS_PASSWORD_FILE', `${passwordFile} is empty`);
  }
  if (redisPassword !== undefined && urlHasPassword(target)) {
    problem('REDIS_PASSWORD', 'REDIS_URL already carries a password: give it in one place only');
  }

  let redisTlsCa: string | undefined;
  const caFile = env['REDIS_TLS_CA_FILE'];
  if (caFile) {
    if (!target?.tls) problem('REDIS_TLS_CA_FILE', 'needs a rediss:// REDIS_URL (TLS)');
    redisTlsCa = read('REDIS_TLS_CA_FILE', caFile);
    if (redisTlsCa !== undefined && !redisTlsCa.includes('-----BEGIN CERTIFICATE-----')) {
      problem('REDIS_TLS_CA_FILE', `${caFile} holds no PEM certificate`);
    }
  }
  return { redisPassword: redisPassword || undefined, redisTlsCa };
}

/** undefined when REDIS_URL is missing (the config says so) or unreadable (reported here). */
function parseTarget(
  url: string | undefined,
  problem: (variable: string, message: string) => void,
): RedisTarget | undefined {
  if (!url) return undefined;
  try {
    return parseRedisUrl(url);
  } catch (error) {
    if (!(error instanceof RedisUrlError)) throw error;
    problem('REDIS_URL', error.message);
    return undefined;
  }
}

function urlHasPassword(target: RedisTarget | undefined): boolean {
  if (target === undefined) return false;
  return target.kind === 'single' ? target.hasPassword : target.password !== undefined;
}

/** The ioredis options the credentials add (the URL's own user, password and TLS still apply). */
export function redisCredentialOptions(credentials: RedisCredentials): Pick<RedisOptions, 'password' | 'tls'> {
  return {
    ...(credentials.redisPassword === undefined ? {} : { password: credentials.redisPassword }),
    ...(credentials.redisTlsCa === undefined ? {} : { tls: { ca: credentials.redisTlsCa } }),
  };
}

/** Errors that retrying will not fix: wrong credentials, a certificate that does not verify. */
export function isRedisCredentialError(error: Error & { code?: string }): boolean {
  if (/\b(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|invalid username-password/i.test(error.message)) return true;
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/i.test(error.code ?? '');
}

/**
 * The credential error behind a connection error, if any. A Redis Cluster client reports
 * "Failed to refresh slots cache" and keeps what the nodes answered in `lastNodeError`.
 */
function credentialErrorIn(error: Error & { lastNodeError?: Error }): Error | undefined {
  if (isRedisCredentialError(error)) return error;
  const cause = error.lastNodeError;
  return cause instanceof Error && isRedisCredentialError(cause) ? cause : undefined;
}

export class RedisCredentialsError extends Error {
  readonly code = 'REDIS_CREDENTIALS_REJECTED';
  override readonly name = 'RedisCredentialsError';
}

/** Duck type of the ioredis client, so this file needs no instance to be tested. */
interface RedisEvents {
  readonly status: string;
  once(event: 'ready', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  disconnect(): void;
}

/**
 * At boot, waits until the connection is ready, or fails when Redis refuses the credentials
 * or the certificate: those are configuration errors that retrying never fixes, and a
 * controller that started anyway would only answer 503s. An unreachable Redis is not an error
 * here (it may come up later; /healthz says so): after `timeoutMs` the wait ends.
 */
export async function checkRedisCredentials(redis: RedisEvents, timeoutMs = 3000): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  let onReady = (): void => undefined;
  let onError = (_error: Error): void => undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onError = (reported: Error) => {
        const error = credentialErrorIn(reported);
        if (!error) return;
        const code = (error as Error & { code?: string }).code;
        reject(
          new RedisCredentialsError(
            code && !/WRONGPASS|NOAUTH|NOPERM/.test(error.message)
              ? `Redis TLS connection failed (${code}: ${error.message}): check REDIS_TLS_CA_FILE and the server's certificate`
              : `Redis refused the credentials (${error.message.trim()}): check REDIS_PASSWORD, REDIS_PASSWORD_FILE or the user and password in REDIS_URL`,
          ),
        );
      };
      timer = setTimeout(resolve, timeoutMs);
      redis.once('ready', onReady);
      redis.on('error', onError);
    });
  } catch (error) {
    redis.disconnect();
    throw error;
  } finally {
    clearTimeout(timer);
    redis.off('ready', onReady);
    redis.off('error', onError);
  }
}
