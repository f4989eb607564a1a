import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { auditControllers, auditProviders } from './audit/audit.providers.js';
import { authProviders } from './auth/auth.providers.js';
import { CONTROLLER_CONFIG, LOGGER } from './controller.tokens.js';
import type { ControllerConfig } from './controller.config.js';
import { SwapEventProcessor } from './events/swap-event.processor.js';
import { PrometheusClient } from './gates/prometheus.client.js';
import { HealthController } from './health/health.controller.js';
import { HostController } from './hosts/host.controller.js';
import { HostCensusClient } from './hosts/host-census.client.js';
import { HostRegistryStore } from './hosts/host-registry.store.js';
import { WatchedModulesStore } from './hosts/watched-modules.store.js';
import { ErrorResponseFilter } from './http/error-response.filter.js';
import type { Logger } from './logging/controller.logger.js';
import { ControllerMetrics } from './metrics/controller.metrics.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { RedisLifecycle } from './redis/redis.lifecycle.js';
import { redisProviders } from './redis/redis.provider.js';
import { HostClaimsStore } from './rollouts/host-claims.store.js';
import { RolloutController } from './rollouts/rollout.controller.js';
import { RolloutReconciler } from './rollouts/rollout.reconciler.js';
import { RolloutService } from './rollouts/rollout.service.js';
import { RolloutStore } from './rollouts/rollout.store.js';
import { SwapJobQueues } from './rollouts/swap-job.queues.js';
import { RunbookController } from './runbooks/runbook.controller.js';
import { RunbookStore } from './runbooks/runbook.store.js';
import { ControllerJobProcessor } from './scheduling/controller-job.processor.js';
import { ControllerQueue } from './scheduling/controller.queue.js';

/**
 * The whole controller is one module: it is small, and one list shows every piece. Shutdown
 * order comes from Nest's hooks: the workers (events, controller queue) and the queues close in
 * onModuleDestroy, the Redis connections after them in onApplicationShutdown.
 */
@Module({})
export class AppModule {
  static register(config: ControllerConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      controllers: [
        RunbookController,
        RolloutController,
        HostController,
        MetricsController,
        HealthController,
        ...auditControllers,
      ],
      providers: [
        { provide: CONTROLLER_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: ErrorResponseFilter },
        ...redisProviders,
        ...authProviders,
        ...auditProviders,
        RedisLifecycle,
        RolloutStore,
        HostRegistryStore,
        WatchedModulesStore,
        SwapJobQueues,
        ControllerMetrics,
        HostCensusClient,
        RunbookStore,
        HostClaimsStore,
        PrometheusClient,
        ControllerQueue,
        RolloutReconciler,
        RolloutService,
        SwapEventProcessor,
        ControllerJobProcessor,
      ],
    };
  }
}
