import type { ApiRole } from './api-role.js';

/**
 * Which role a request needs, in one place (the guard enforces it, the OpenAPI document
 * states it):
 * - `GET /healthz` and `GET /metrics` are open: Prometheus and load balancers scrape them
 *   without credentials, and they reveal no rollout or host detail beyond counters;
 * - reads (GET, HEAD, OPTIONS) need `read-only`, including `/openapi.json` and `/docs`;
 * - everything else (POST, PUT, PATCH, DELETE) needs `operator`.
 * A path is matched exactly (after removing a trailing slash); anything not listed as open
 * needs a token, so a new endpoint is protected by default.
 */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/metrics']);

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export const isMutating = (method: string): boolean => !READ_METHODS.has(method.toUpperCase());

/** The role needed, or null when the endpoint is open. */
export function requiredRole(method: string, path: string): ApiRole | null {
  const bare = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (!isMutating(method) && OPEN_PATHS.has(bare)) return null;
  return isMutating(method) ? 'operator' : 'read-only';
}
