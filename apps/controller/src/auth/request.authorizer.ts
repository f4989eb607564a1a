import { requiredRole } from './access.policy.js';
import { roleSatisfies } from './api-role.js';
import { ForbiddenError, UnauthenticatedError } from './auth.errors.js';
import type { Principal, TokenAuthenticator } from './token.authenticator.js';

export type AccessDecision =
  | { readonly allowed: true; readonly principal: Principal | null }
  | {
      readonly allowed: false;
      readonly principal: Principal | null;
      readonly error: UnauthenticatedError | ForbiddenError;
    };

/**
 * The access policy applied to one request: which role it needs, who is asking, and whether
 * that is enough. Used by the Nest guard (every controller route) and by the middleware in
 * front of the OpenAPI routes that @nestjs/swagger mounts on Express directly.
 */
export function authorizeRequest(
  authenticator: TokenAuthenticator,
  request: { readonly method: string; readonly path: string; readonly authorization: string | undefined },
  options: { basic?: boolean } = {},
): AccessDecision {
  const need = requiredRole(request.method, request.path);
  if (need === null) return { allowed: true, principal: null };
  const authentication = authenticator.authenticate(request.authorization, options);
  if (!authentication.ok) {
    return { allowed: false, principal: null, error: new UnauthenticatedError(authentication.reason) };
  }
  const { principal } = authentication;
  if (!roleSatisfies(principal.role, need)) {
    const error = new ForbiddenError(request.method, request.path, principal.name, principal.role, need);
    return { allowed: false, principal, error };
  }
  return { allowed: true, principal };
}
