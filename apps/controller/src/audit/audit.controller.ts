import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ControllerError } from '../errors/controller.errors.js';
import type { AuditEntry } from './audit.entry.js';
import { AUDIT_CAPACITY, AuditLog } from './audit.log.js';

const DEFAULT_LIMIT = 100;

@ApiTags('Audit')
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(AuditLog) private readonly audit: AuditLog) {}

  @Get()
  @ApiOperation({
    summary: 'The audit log, newest first',
    description:
      'Every mutating call (allowed or denied) with who (the token name), method, path, the rollout or ' +
      `runbook concerned, status, outcome and error code. The last ${AUDIT_CAPACITY} entries are kept.`,
  })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${AUDIT_CAPACITY}, default ${DEFAULT_LIMIT}` })
  @ApiResponse({ status: 200, description: 'entries, newest first' })
  @ApiResponse({ status: 400, description: 'INVALID_QUERY: limit out of range' })
  list(@Query('limit') limit: string | undefined): Promise<AuditEntry[]> {
    return this.audit.list(auditLimit(limit));
  }
}

function auditLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_CAPACITY) {
    throw new ControllerError(
      'INVALID_QUERY',
      400,
      `limit must be an integer from 1 to ${AUDIT_CAPACITY}, got ${JSON.stringify(raw)}`,
    );
  }
  return limit;
}
