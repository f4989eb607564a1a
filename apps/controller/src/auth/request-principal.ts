import type { Principal } from './token.authenticator.js';

/**
 * The principal the guard authenticated, kept beside the request (not on it: the request
 * object's type stays Express's) for the audit interceptor to read.
 */
const principals = new WeakMap<object, Principal>();

export const setRequestPrincipal = (request: object, principal: Principal): void => {
  principals.set(request, principal);
};

export const requestPrincipal = (request: object): Principal | null => principals.get(request) ?? null;
