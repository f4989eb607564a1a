import { Controller, Get, Inject, Param } from '@nestjs/common';
import { HostNotFoundError } from '../errors/controller.errors.js';
import { HostClaimsStore } from '../rollouts/host-claims.store.js';
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
  ) {}

  /** The agents that registered, with how fresh their last heartbeat is. */
  @Get()
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
}
