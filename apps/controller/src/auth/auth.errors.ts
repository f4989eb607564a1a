import { ControllerError } from '../errors/controller.errors.js';
import type { ApiRole } from './api-role.js';
import type { Authentication } from './token.authenticator.js';

const REASONS: Readonly<Record<Exclude<Authentication, { ok: true }>['reason'], string>> = {
  missing: 'this endpoint needs a token: send "Authorization: Bearer <token>"',
  malformed: 'the Authorization header is not "Bearer <token>"',
  invalid: 'the bearer token is not valid (unknown, or revoked): ask for a token from the controller operators',
};

/** 401: no usable credentials. The answer carries `WWW-Authenticate: Bearer` (set by the guard). */
export class UnauthenticatedError extends ControllerError {
  constructor(readonly reason: keyof typeof REASONS) {
    super('UNAUTHENTICATED', 401, REASONS[reason]);
  }
}

/** 403: a valid token whose role is not enough. */
export class ForbiddenError extends ControllerError {
  constructor(method: string, path: string, who: string, have: ApiRole, need: ApiRole) {
    super(
      'FORBIDDEN',
      403,
      `${method} ${path} needs the ${need} role; token ${JSON.stringify(who)} has the ${have} role`,
      { requiredRole: need },
    );
  }
}

/** RFC 6750 challenges, so that clients can tell a missing token from an insufficient one. */
export function bearerChallenge(error: UnauthenticatedError | ForbiddenError): string {
  if (error instanceof ForbiddenError) return 'Bearer realm="hotswap", error="insufficient_scope"';
  return error.reason === 'missing' ? 'Bearer realm="hotswap"' : 'Bearer realm="hotswap", error="invalid_token"';
}
