import type { Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditController } from './audit.controller.js';
import { AuditInterceptor } from './audit.interceptor.js';
import { AuditLog } from './audit.log.js';

/** The audit log (GET /v1/audit) and the interceptor that records every mutating call. */
export const auditControllers = [AuditController];
export const auditProviders: Provider[] = [AuditLog, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }];
