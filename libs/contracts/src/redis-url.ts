/**
 * The forms of REDIS_URL that the agent and the controller both accept, so that one value
 * configures either:
 *
 *   /run/redis/redis.sock                          a unix socket
 *   redis://[user:pass@]host:port[/db]             one Redis (rediss:// for TLS)
 *   redis+cluster://[user:pass@]host:port,host:port,...
 *                                                  a Redis Cluster, from one or more of its
 *                                                  nodes (the others are discovered);
 *                                                  rediss+cluster:// for TLS
 *
 * Single-node URLs are handed to ioredis as they are; a cluster URL is taken apart here, since
 * ioredis wants its seed nodes and credentials separately (and `new URL` cannot parse a list of
 * hosts). Pure: no ioredis here, the apps build their clients from what this returns.
 */
export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget =
  | {
      readonly kind: 'single';
      readonly url: string;
      readonly tls: boolean;
      /** The URL carries a password (`redis://:pass@host`). */
      readonly hasPassword: boolean;
    }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly RedisClusterNode[];
      readonly tls: boolean;
      readonly username: string | undefined;
      readonly password: string | undefined;
    };

export class RedisUrlError extends Error {
  readonly code = 'REDIS_URL_INVALID';
  override readonly name = 'RedisUrlError';
}

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//i;

export function isRedisClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/** Throws RedisUrlError with a message that never contains the password. */
export function parseRedisUrl(url: string): RedisTarget {
  const cluster = CLUSTER_SCHEME.exec(url);
  if (cluster) return parseClusterUrl(url.slice(cluster[0].length), cluster[1]!.toLowerCase() === 'rediss');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^rediss?:\/\//i.test(url)) {
    throw new RedisUrlError(
      `unknown scheme in ${url.slice(0, url.indexOf('://') + 3)}...: expected redis://, rediss://, redis+cluster://, rediss+cluster:// or a socket path`,
    );
  }
  let hasPassword = false;
  if (/^rediss?:\/\//i.test(url)) {
    try {
      hasPassword = new URL(url).password !== '';
    } catch {
      throw new RedisUrlError('REDIS_URL is not a valid URL');
    }
  }
  return { kind: 'single', url, tls: /^rediss:\/\//i.test(url), hasPassword };
}

function parseClusterUrl(rest: string, tls: boolean): RedisTarget {
  const at = rest.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : rest.slice(0, at);
  const hostPart = (at < 0 ? rest : rest.slice(at + 1)).replace(/\/$/, '');
  if (hostPart.includes('/') || hostPart.includes('?')) {
    throw new RedisUrlError('a redis+cluster:// URL takes no database or options: a cluster has database 0 only');
  }
  const nodes = hostPart.split(',').map(parseNode);
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon)) || undefined;
    password = colon < 0 ? undefined : decode(userinfo.slice(colon + 1)) || undefined;
  }
  return { kind: 'cluster', nodes, tls, username, password };
}

function parseNode(text: string): RedisClusterNode {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(text);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    throw new RedisUrlError(
      `cluster node "${text}" is not host:port (a redis+cluster:// URL lists host:port,host:port)`,
    );
  }
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new RedisUrlError('the user or password in REDIS_URL is not valid percent-encoding');
  }
}
