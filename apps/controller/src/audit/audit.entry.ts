import type { ApiRole } from '../auth/api-role.js';
import type { Principal } from '../auth/token.authenticator.js';

/** One line of the audit log: who did what, when, to which rollout or runbook, and how it went. */
export interface AuditEntry {
  /** ISO 8601, UTC. */
  readonly at: string;
  /** The token's name; null when the caller presented no valid token (401). */
  readonly who: string | null;
  readonly role: ApiRole | null;
  readonly method: string;
  /** The request path, without the query string. */
  readonly path: string;
  readonly rolloutId?: string;
  readonly runbook?: string;
  readonly status: number;
  readonly outcome: 'ok' | 'error';
  /** The error code of the answer (`FORBIDDEN`, `RUNBOOK_INVALID`, ...) when outcome is error. */
  readonly error?: string;
  /** The client's address, as Express sees it. */
  readonly remote?: string;
}

/** What the entry is built from: the parts of an Express request the audit reads. */
export interface AuditedRequest {
  readonly method: string;
  readonly path: string;
  readonly params?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly ip?: string | undefined;
}

export function auditEntry(
  request: AuditedRequest,
  principal: Principal | null,
  result: { readonly status: number; readonly error?: string; readonly response?: unknown },
  at: Date = new Date(),
): AuditEntry {
  const target = auditTarget(request, result.response);
  return {
    at: at.toISOString(),
    who: principal?.name ?? null,
    role: principal?.role ?? null,
    method: request.method,
    path: request.path,
    ...target,
    status: result.status,
    outcome: result.status < 400 && result.error === undefined ? 'ok' : 'error',
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(request.ip ? { remote: request.ip } : {}),
  };
}

/**
 * The rollout or runbook a call is about: from the route (`/v1/rollouts/:id/...`,
 * `/v1/runbooks/:name`), else from the answer (a created rollout's id) or, for a runbook,
 * from the document sent.
 */
export function auditTarget(request: AuditedRequest, response: unknown): { rolloutId?: string; runbook?: string } {
  const params = request.params ?? {};
  if (/^\/v1\/rollouts(\/|$)/.test(request.path)) {
    const rolloutId = params['id'] ?? stringAt(response, ['id']);
    const runbook = stringAt(response, ['runbook']) ?? stringAt(response, ['name']);
    return { ...(rolloutId ? { rolloutId } : {}), ...(runbook ? { runbook } : {}) };
  }
  if (/^\/v1\/runbooks(\/|$)/.test(request.path)) {
    const runbook =
      params['name'] ??
      stringAt(response, ['name']) ??
      stringAt(response, ['metadata', 'name']) ??
      stringAt(request.body, ['metadata', 'name']);
    return runbook ? { runbook } : {};
  }
  return {};
}

function stringAt(value: unknown, path: readonly string[]): string | undefined {
  let at: unknown = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at === 'string' && at.length <= 200 ? at : undefined;
}
