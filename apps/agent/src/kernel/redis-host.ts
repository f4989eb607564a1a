/**
 * The host name or address the agent reaches Redis at, from the Redis URL as the agent is
 * configured with it: null for a unix socket (a path, no network device involved).
 */
export function redisHostOf(url: string): string | null {
  if (!/^rediss?:\/\//.test(url)) return null;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return null;
  }
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return bare === '' ? null : bare;
}
