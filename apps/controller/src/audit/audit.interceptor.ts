import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, concatMap, from, throwError, type Observable } from 'rxjs';
import { isMutating } from '../auth/access.policy.js';
import { requestPrincipal } from '../auth/request-principal.js';
import { toErrorResponse } from '../http/error-response.filter.js';
import { auditEntry, type AuditedRequest } from './audit.entry.js';
import { AuditLog } from './audit.log.js';

/**
 * Records every mutating call that reached a handler, with its outcome, before the answer
 * goes out (so a client that reads /v1/audit right after sees its call). Calls the guard
 * denied never get here: the guard records those itself.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(@Inject(AuditLog) private readonly audit: AuditLog) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<AuditedRequest>();
    if (!isMutating(request.method)) return next.handle();
    const principal = requestPrincipal(request);
    return next.handle().pipe(
      concatMap(async (result: unknown) => {
        // Nest sets the status (@HttpCode's, or its default) before the handler runs, and a
        // handler with @Res({passthrough}) may change it: what is there now is what is sent.
        const status = http.getResponse<{ statusCode: number }>().statusCode;
        await this.audit.record(auditEntry(request, principal, { status, response: result }));
        return result;
      }),
      catchError((error: unknown) => {
        const { status, body } = toErrorResponse(error);
        const recorded = this.audit.record(auditEntry(request, principal, { status, error: body.error }));
        return from(recorded).pipe(concatMap(() => throwError(() => error)));
      }),
    );
  }
}
