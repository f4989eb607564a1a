import { Body, Controller, Get, Headers, Inject, Param, Post, Res } from '@nestjs/common';
import { parseRunbook, validateRunbook, type ModuleStep } from '@hotswap/runbook';
import { RunbookNotFoundError, UnsupportedMediaTypeError } from '../errors/controller.errors.js';
import { WatchedModulesStore } from '../hosts/watched-modules.store.js';
import { RunbookStore, type StoredRunbook } from './runbook.store.js';

/** One line of GET /v1/runbooks. */
export interface RunbookListItem {
  readonly name: string;
  readonly revision: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly modules: readonly ModuleStep[];
}

interface StatusResponse {
  status(code: number): unknown;
}

@Controller('v1/runbooks')
export class RunbookController {
  constructor(
    @Inject(RunbookStore) private readonly runbooks: RunbookStore,
    @Inject(WatchedModulesStore) private readonly watched: WatchedModulesStore,
  ) {}

  /**
   * Validates and stores a runbook under its `metadata.name` (JSON, or YAML whose issues carry
   * line and column). 201 when new; 200 when it replaced one, with the revision bumped. Its
   * modules join the watched set, so agents report their versions from the next heartbeat.
   */
  @Post()
  async put(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Res({ passthrough: true }) response: StatusResponse,
  ): Promise<StoredRunbook> {
    const runbook = typeof body === 'string' ? parseRunbook(body) : validateRunbook(jsonBody(body, contentType));
    const { stored, created } = await this.runbooks.put(runbook, Date.now());
    await this.watched.add(runbook);
    response.status(created ? 201 : 200);
    return stored;
  }

  @Get()
  async list(): Promise<RunbookListItem[]> {
    return (await this.runbooks.list()).map(({ name, revision, createdAt, updatedAt, runbook }) => ({
      name,
      revision,
      createdAt,
      updatedAt,
      modules: runbook.spec.modules,
    }));
  }

  @Get(':name')
  async get(@Param('name') name: string): Promise<StoredRunbook> {
    const stored = await this.runbooks.get(name);
    if (!stored) throw new RunbookNotFoundError(name);
    return stored;
  }
}

/** The JSON parser hands a value over; anything else is a media type the API does not take. */
export function jsonBody(body: unknown, contentType: string | undefined): unknown {
  if (body !== undefined && /^application\/(.+\+)?json\b/i.test(contentType ?? '')) return body;
  throw new UnsupportedMediaTypeError(contentType);
}
