import { timingSafeEqual } from 'node:crypto';
import type { ApiRole } from './api-role.js';
import { sha256Of, type AuthConfig } from './auth.config.js';

/** Who made a request: the token's name and role (or the anonymous operator of open mode). */
export interface Principal {
  readonly name: string;
  readonly role: ApiRole;
}

export const ANONYMOUS_OPERATOR: Principal = { name: 'anonymous', role: 'operator' };

export type Authentication =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'invalid' };

/**
 * Checks the credentials of a request against the configured tokens. The presented token is
 * hashed and compared with every stored hash in constant time, so neither the comparison nor
 * the number of entries tried tells anything about a token.
 */
export class TokenAuthenticator {
  constructor(private readonly config: AuthConfig) {}

  get open(): boolean {
    return this.config.mode === 'open';
  }

  /**
   * `basic` also accepts `Authorization: Basic` with the token as the password (any user
   * name): a browser can then open /docs. Only the read-only documentation routes allow it;
   * the API takes bearer tokens only, which a browser never sends on its own (no CSRF).
   */
  authenticate(authorization: string | undefined, options: { basic?: boolean } = {}): Authentication {
    if (this.config.mode === 'open') return { ok: true, principal: ANONYMOUS_OPERATOR };
    if (authorization === undefined || authorization.trim() === '') return { ok: false, reason: 'missing' };
    const presented = presentedToken(authorization, options.basic ?? false);
    if (presented === null) return { ok: false, reason: 'malformed' };
    const digest = sha256Of(presented);
    let found: Principal | undefined;
    for (const token of this.config.tokens) {
      if (timingSafeEqual(token.sha256, digest) && found === undefined) found = { name: token.name, role: token.role };
    }
    return found ? { ok: true, principal: found } : { ok: false, reason: 'invalid' };
  }
}

function presentedToken(authorization: string, basic: boolean): string | null {
  const bearer = /^Bearer +(\S+) *$/i.exec(authorization);
  if (bearer) return bearer[1] ?? null;
  const basicMatch = basic ? /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(authorization) : null;
  if (!basicMatch) return null;
  const decoded = Buffer.from(basicMatch[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : null;
}
