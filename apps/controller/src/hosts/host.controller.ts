import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { HostCensus } from '@hotswap/contracts';
import { censusRequestOf } from '@hotswap/runbook';
import { HostCensusFailedError, HostCensusTimeoutError } from '../errors/census.errors.js';
import { HostNotFoundError, RunbookNotFoundError } from '../errors/controller.errors.js';
import { HostClaimsStore } from '../rollouts/host-claims.store.js';
import { RunbookStore } from '../runbooks/runbook.store.js';
import { parseCensusQuery } from './census-query.parser.js';
import { HostCensusClient } from './host-census.client.js';
import type { RegisteredHost } from './host-heartbeat.decoder.js';
import { HostRegistryStore } from './host-registry.store.js';

/** GET /v1/hosts/:id: the registry's view of one host, and the unfinished rollout that owns it. */
export interface HostDetail extends RegisteredHost {
  readonly rollout: string | null;
}

@Controller('v1/hosts')
export class HostController {
  constructor(
    @Inject(HostRegistryStore) private readonly registry: HostRegistryStore,
    @Inject(HostClaimsStore) private readonly claims: HostClaimsStore,
    @Inject(HostCensusClient) private readonly census: HostCensusClient,
    @Inject(RunbookStore) private readonly runbooks: RunbookStore,
  ) {}

  /** The agents that registered, with how fresh their last heartbeat is and their module versions. */
  @Get()
  @ApiOperation({
    summary: 'Registered hosts',
    description:
      'Each host with its labels, kernel, agent version, last heartbeat (and whether it is recent enough), and ' +
      '`modules`: version and srcversion of the modules the runbooks name, as of the last heartbeat.',
  })
  list(): Promise<RegisteredHost[]> {
    return this.registry.list(Date.now());
  }

  /** One host with its labels; `rollout` is the rollout holding it (released when that one ends). */
  @Get(':id')
  async get(@Param('id') id: string): Promise<HostDetail> {
    const host = await this.registry.get(id, Date.now());
    if (!host) throw new HostNotFoundError(id);
    return { ...host, rollout: (await this.claims.owner(id))?.rolloutId ?? null };
  }

  @Get(':id/holders')
  @ApiOperation({
    summary: 'Live census of a host: devices, module stack and the processes holding the devices',
    description:
      "Asked of the host's agent over its census queue, answered within the census deadline (CENSUS_TIMEOUT_MS, " +
      'default 3 s). Name the devices with bus and driver, or give a stored runbook. Nothing on the host changes.',
  })
  @ApiParam({ name: 'id', description: 'host id, as in GET /v1/hosts' })
  @ApiQuery({ name: 'runbook', required: false, description: 'a stored runbook: its devices and module stack' })
  @ApiQuery({ name: 'bus', required: false, description: 'bus of the devices, e.g. pci (with driver)' })
  @ApiQuery({ name: 'driver', required: false, description: 'driver the devices are bound to, e.g. mlx5_core' })
  @ApiQuery({ name: 'vendor', required: false, description: 'vendor id, e.g. 0x15b3' })
  @ApiQuery({ name: 'device', required: false, description: 'device id, e.g. 0x1017' })
  @ApiQuery({
    name: 'modules',
    required: false,
    description: 'module stack, comma-separated, top first (default: the module named like the driver)',
  })
  @ApiResponse({ status: 200, description: 'the census: devices, modules (unload order), holders, targets' })
  @ApiResponse({ status: 400, description: 'INVALID_QUERY: a missing, unknown or invalid parameter' })
  @ApiResponse({ status: 404, description: 'HOST_NOT_FOUND or RUNBOOK_NOT_FOUND' })
  @ApiResponse({ status: 502, description: 'HOST_CENSUS_FAILED: the agent refused or failed (its reason)' })
  @ApiResponse({ status: 504, description: 'HOST_CENSUS_TIMEOUT: the agent did not answer in time' })
  async holders(@Param('id') id: string, @Query() query: Record<string, unknown>): Promise<HostCensus> {
    const parsed = parseCensusQuery(query);
    const host = await this.registry.get(id, Date.now());
    if (!host) throw new HostNotFoundError(id);
    let request;
    if ('runbook' in parsed) {
      const stored = await this.runbooks.get(parsed.runbook);
      if (!stored) throw new RunbookNotFoundError(parsed.runbook);
      request = censusRequestOf(stored.runbook);
    } else request = parsed.request;
    const answer = await this.census.ask(id, request);
    if (answer.status === 'answered') return answer.census;
    if (answer.status === 'failed') throw new HostCensusFailedError(id, answer.error);
    throw new HostCensusTimeoutError(id, answer.deadlineMs, answer.pickedUp, Math.round(host.ageSeconds));
  }
}
