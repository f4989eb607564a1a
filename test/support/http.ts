import { controllerToken } from '@hotswap/tools';

/**
 * Small JSON-over-HTTP helpers for the end-to-end tests (real HTTP, Node's fetch). A request
 * to the controller of a SimFleet this process started carries the fleet's operator token
 * (`Authorization: Bearer`); pass `token` to send another one, or '' to send none.
 */
function authorization(url: string, token: string | undefined): Record<string, string> {
  const bearer = token ?? controllerToken(url);
  return bearer ? { authorization: `Bearer ${bearer}` } : {};
}

export async function getJson<T = unknown>(url: string, token?: string): Promise<T> {
  const response = await fetch(url, { headers: authorization(url, token) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The body is loosely typed on purpose: tests check it field by field. */
export async function postJson(
  url: string,
  body: unknown,
  contentType = 'application/json',
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...authorization(url, token) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function getText(url: string, token?: string): Promise<string> {
  const response = await fetch(url, { headers: authorization(url, token) });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return response.text();
}

/** Poll until `check` returns a value (not undefined), or fail with what was last seen. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The value of one sample in a Prometheus text exposition, or undefined. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([^{\s]+)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[4]);
  }
  return undefined;
}
