import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CONTROLLER_CONFIG, LOGGER } from './controller.tokens.js';
import type { ControllerConfig } from './controller.config.js';
import { SwapEventProcessor } from './events/swap-event.processor.js';
import { HealthController } from './health/health.controller.js';
import { HostController } from './hosts/host.controller.js';
import { HostRegistryStore } from './hosts/host-registry.store.js';
import { ErrorResponseFilter } from './http/error-response.filter.js';
import type { Logger } from './logging/controller.logger.js';
import { ControllerMetrics } from './metrics/controller.metrics.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { RedisLifecycle } from './redis/redis.lifecycle.js';
import { redisProviders } from './redis/redis.provider.js';
import { RolloutController } from './rollouts/rollout.controller.js';
import { RolloutService } from './rollouts/rollout.service.js';
import { RolloutStore } from './rollouts/rollout.store.js';
import { SwapJobQueues } from './rollouts/swap-job.queues.js';

/**
 * The whole controller is one module: it is small, and one list shows every piece. Shutdown
 * order comes from Nest's hooks: the event worker and the swap queues close in
 * onModuleDestroy, the Redis connections after them in onApplicationShutdown.
 */
@Module({})
export class AppModule {
  static register(config: ControllerConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      controllers: [RolloutController, HostController, MetricsController, HealthController],
      providers: [
        { provide: CONTROLLER_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: ErrorResponseFilter },
        ...redisProviders,
        RedisLifecycle,
        RolloutStore,
        HostRegistryStore,
        SwapJobQueues,
        ControllerMetrics,
        RolloutService,
        SwapEventProcessor,
      ],
    };
  }
}
