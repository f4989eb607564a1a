import { parseRedisUrl } from '@hotswap/contracts';

/**
 * The host names or addresses the agent reaches Redis at, from its Redis URL: none for a unix
 * socket (no network device involved), the seed nodes for a cluster URL (the nodes discovered
 * from them are not known before connecting).
 */
export function redisHostsOf(url: string): string[] {
  let target;
  try {
    target = parseRedisUrl(url);
  } catch {
    return [];
  }
  if (target.kind === 'cluster') return [...new Set(target.nodes.map((n) => n.host))];
  if (!/^rediss?:\/\//i.test(target.url)) return [];
  const host = new URL(target.url).hostname.replace(/^\[(.*)\]$/, '$1');
  return host === '' ? [] : [host];
}
