import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { RunbookValidationError } from '@hotswap/runbook';
import { LOGGER } from '../controller.tokens.js';
import { ControllerError } from '../errors/controller.errors.js';
import type { Logger } from '../logging/controller.logger.js';

/** The little of Express's response this filter uses (no @types/express in the repo). */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly [detail: string]: unknown;
}

/** Stable codes for what Nest and Express raise themselves (unknown route, bad JSON, ...). */
const HTTP_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** ioredis gives up on a command with these while Redis is unreachable. */
const REDIS_DOWN = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

export function toErrorResponse(exception: unknown): { status: number; body: ErrorBody } {
  if (exception instanceof RunbookValidationError) {
    return { status: 400, body: { error: exception.code, message: exception.message, issues: exception.issues } };
  }
  if (exception instanceof ControllerError) {
    return {
      status: exception.status,
      body: { error: exception.code, message: exception.message, ...exception.details },
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return { status, body: { error: HTTP_CODES[status] ?? `HTTP_${status}`, message: exception.message } };
  }
  if (exception instanceof Error && (REDIS_DOWN.has(exception.name) || exception.message === 'Connection is closed.')) {
    return { status: 503, body: { error: 'REDIS_UNAVAILABLE', message: 'Redis is unreachable: retry later' } };
  }
  // Internals stay in the log, not in the answer.
  return { status: 500, body: { error: 'INTERNAL', message: 'internal error (see the controller log)' } };
}

/** Every error the API answers is `{error: CODE, message, ...details}`. */
@Catch()
export class ErrorResponseFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<JsonResponse>();
    const request = http.getRequest<{ method?: string; url?: string }>();
    const { status, body } = toErrorResponse(exception);
    const fields = { method: request.method, url: request.url, status, code: body.error };
    if (status >= 500) {
      const error = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      this.logger.error({ ...fields, error }, 'request failed');
    } else {
      this.logger.debug(fields, 'request rejected');
    }
    response.status(status).json(body);
  }
}
