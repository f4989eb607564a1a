import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { RolloutEvent } from '@hotswap/rollout';
import { requestPrincipal } from '../auth/request-principal.js';
import { ControllerError, RequestInvalidError, UnsupportedMediaTypeError } from '../errors/controller.errors.js';
import { RolloutService, type RolloutPlan, type RunbookInput } from './rollout.service.js';
import type { OperatorCommand } from './rollout.transitions.js';
import type { RolloutListItem, RolloutView } from './rollout.view.js';

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1000;

interface StatusResponse {
  status(code: number): unknown;
}

@Controller('v1/rollouts')
export class RolloutController {
  constructor(@Inject(RolloutService) private readonly rollouts: RolloutService) {}

  /**
   * Body, one of:
   * - a runbook, as application/json or as YAML text (application/yaml, text/yaml), whose
   *   validation issues then carry line and column;
   * - `{"runbook": "<stored name>"}` (application/json), optionally with `"revision": N` to
   *   insist on the revision that was reviewed.
   * `?dryRun=true`: 200 with the plan (waves, skipped hosts, the scheduler's view of the runbook);
   * nothing is created. Otherwise 201 with the rollout, its canary already enqueued.
   */
  @Post()
  async create(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Query('dryRun') dryRun: string | undefined,
    @Res({ passthrough: true }) response: StatusResponse,
  ): Promise<RolloutView | RolloutPlan> {
    const input = runbookInput(body, contentType);
    if (flag('dryRun', dryRun)) {
      response.status(200);
      return this.rollouts.plan(input);
    }
    response.status(201);
    return this.rollouts.create(input);
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

  /** The event log the scheduler decides from, in order. */
  @Get(':id/events')
  events(@Param('id') id: string): Promise<{ id: string; state: string; events: readonly RolloutEvent[] }> {
    return this.rollouts.events(id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  pause(@Param('id') id: string, @Req() request: object): Promise<RolloutView> {
    return this.command(id, 'pause', request);
  }

  @Post(':id/resume')
  @HttpCode(200)
  resume(@Param('id') id: string, @Req() request: object): Promise<RolloutView> {
    return this.command(id, 'resume', request);
  }

  @Post(':id/abort')
  @HttpCode(200)
  abort(@Param('id') id: string, @Req() request: object): Promise<RolloutView> {
    return this.command(id, 'abort', request);
  }

  @Post(':id/rollback')
  @HttpCode(200)
  rollback(@Param('id') id: string, @Req() request: object): Promise<RolloutView> {
    return this.command(id, 'rollback', request);
  }

  /** The event log records who gave the command: the API token's name (auth/). */
  private command(id: string, command: OperatorCommand, request: object): Promise<RolloutView> {
    return this.rollouts.command(id, command, requestPrincipal(request)?.name);
  }
}

/**
 * The text parser hands YAML over as a string; the JSON parser as a value. A JSON object with a
 * `runbook` key and no `apiVersion` names a stored runbook.
 */
function runbookInput(body: unknown, contentType: string | undefined): RunbookInput {
  if (typeof body === 'string') return { text: body };
  if (body === undefined || !/^application\/(.+\+)?json\b/i.test(contentType ?? '')) {
    throw new UnsupportedMediaTypeError(contentType);
  }
  if (typeof body !== 'object' || body === null || !('runbook' in body) || 'apiVersion' in body) return { value: body };
  const { runbook, revision, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (typeof runbook !== 'string' || runbook === '') {
    throw new RequestInvalidError('"runbook" must be the name of a stored runbook (see GET /v1/runbooks)');
  }
  if (revision !== undefined && !(typeof revision === 'number' && Number.isInteger(revision) && revision > 0)) {
    throw new RequestInvalidError('"revision" must be a positive integer (the stored runbook\'s revision)');
  }
  if (extra.length > 0) {
    throw new RequestInvalidError(
      `unknown field(s) ${extra.join(', ')}: send either a whole runbook or {"runbook": name, "revision"?: n}`,
    );
  }
  return revision === undefined ? { stored: runbook } : { stored: runbook, revision };
}

function flag(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ControllerError('INVALID_QUERY', 400, `${name} must be true or false, got ${JSON.stringify(raw)}`);
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
