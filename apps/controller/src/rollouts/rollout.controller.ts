import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ControllerError, UnsupportedMediaTypeError } from '../errors/controller.errors.js';
import { RolloutService, type RunbookInput } from './rollout.service.js';
import type { RolloutListItem, RolloutView } from './rollout.view.js';

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1000;

@Controller('v1/rollouts')
export class RolloutController {
  constructor(@Inject(RolloutService) private readonly rollouts: RolloutService) {}

  /**
   * Body: a runbook with `spec.hosts.names`, as application/json or as YAML text
   * (application/yaml, text/yaml), whose validation issues then carry line and column.
   */
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown, @Headers('content-type') contentType: string | undefined): Promise<RolloutView> {
    return this.rollouts.create(runbookInput(body, contentType));
  }

  /** Newest first; `?limit=N` (default 100, at most 1000). */
  @Get()
  list(@Query('limit') limit: string | undefined): Promise<RolloutListItem[]> {
    return this.rollouts.list(listLimit(limit));
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<RolloutView> {
    return this.rollouts.get(id);
  }
}

/** The text parser hands YAML over as a string; the JSON parser as a value. */
function runbookInput(body: unknown, contentType: string | undefined): RunbookInput {
  if (typeof body === 'string') return { text: body };
  if (body !== undefined && /^application\/(.+\+)?json\b/i.test(contentType ?? '')) return { value: body };
  throw new UnsupportedMediaTypeError(contentType);
}

function listLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIST_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new ControllerError(
      'INVALID_QUERY',
      400,
      `limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(raw)}`,
    );
  }
  return limit;
}
