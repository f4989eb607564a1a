import { Controller, Get, Inject } from '@nestjs/common';
import type { RegisteredHost } from './host-heartbeat.decoder.js';
import { HostRegistryStore } from './host-registry.store.js';

@Controller('v1/hosts')
export class HostController {
  constructor(@Inject(HostRegistryStore) private readonly registry: HostRegistryStore) {}

  /** The agents that registered, with how fresh their last heartbeat is. */
  @Get()
  list(): Promise<RegisteredHost[]> {
    return this.registry.list(Date.now());
  }
}
