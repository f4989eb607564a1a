import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { auditEntry } from '../audit/audit.entry.js';
import { AuditLog } from '../audit/audit.log.js';
import { isMutating } from './access.policy.js';
import { bearerChallenge } from './auth.errors.js';
import { setRequestPrincipal } from './request-principal.js';
import { authorizeRequest } from './request.authorizer.js';
import { TokenAuthenticator } from './token.authenticator.js';

/** The little of Express's request and response the guard uses. */
interface GuardedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly params?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly ip?: string;
}
interface ChallengeResponse {
  setHeader(name: string, value: string): void;
}

/**
 * The global guard: every route needs the role the access policy names (see
 * access.policy.ts). A denied mutating call is recorded in the audit log here, because
 * guards run before interceptors; the error filter then answers 401/403.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(TokenAuthenticator) private readonly authenticator: TokenAuthenticator,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<GuardedRequest>();
    const authorization = request.headers['authorization'];
    const decision = authorizeRequest(this.authenticator, {
      method: request.method,
      path: request.path,
      authorization: Array.isArray(authorization) ? authorization[0] : authorization,
    });
    if (decision.allowed) {
      if (decision.principal) setRequestPrincipal(request, decision.principal);
      return true;
    }
    const { error, principal } = decision;
    http.getResponse<ChallengeResponse>().setHeader('WWW-Authenticate', bearerChallenge(error));
    if (isMutating(request.method)) {
      await this.audit.record(auditEntry(request, principal, { status: error.status, error: error.code }));
    }
    throw error;
  }
}
