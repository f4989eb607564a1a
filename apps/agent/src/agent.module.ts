import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { KernelPort } from '@hotswap/kernel';
import { join } from 'node:path';
import { AGENT_CONFIG, KERNEL_ACCESS, KERNEL_PORT, REDIS } from './agent.tokens.js';
import type { AgentConfig } from './config/agent.config.js';
import { HealthController } from './health/health.controller.js';
import { FileSwapJournal } from './journal/file-swap.journal.js';
import { PtyHookExecutor } from './hooks/pty-hook.executor.js';
import { createKernelAccess, type KernelAccess } from './kernel/kernel-port.factory.js';
import { HostLock } from './lock/host.lock.js';
import { logFields } from './logger.js';
import { AgentMetrics } from './metrics/agent.metrics.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { moduleRefcountSource } from './metrics/module-refcount.source.js';
import { CensusQueueWorker } from './queue/census-queue.worker.js';
import { redisConnection, type RedisClient } from './queue/redis-connection.js';
import { SwapEventPublisher } from './queue/swap-event.publisher.js';
import { SwapQueueWorker } from './queue/swap-queue.worker.js';
import { HeartbeatService } from './registry/heartbeat.service.js';
import { ModuleVersionReporter } from './registry/module-version.reporter.js';
import { ModuleWatchList } from './registry/module-watch.list.js';
import { SwapJobHandler } from './swap/swap-job.handler.js';
import { AGENT_VERSION } from './version.js';

/** Starts the worker and the heartbeat once everything is built; closes everything on shutdown. */
class AgentLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(SwapQueueWorker) private readonly worker: SwapQueueWorker,
    @Inject(CensusQueueWorker) private readonly census: CensusQueueWorker,
    @Inject(HeartbeatService) private readonly heartbeat: HeartbeatService,
    @Inject(SwapEventPublisher) private readonly publisher: SwapEventPublisher,
    @Inject(KERNEL_PORT) private readonly port: KernelPort,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.heartbeat.start();
    this.census.start();
    await this.worker.start();
  }

  /** Idempotent, and every step runs even if an earlier one fails. */
  async onApplicationShutdown(): Promise<void> {
    this.heartbeat.stop();
    const steps = [
      () => this.worker.close(),
      () => this.census.close(),
      () => this.publisher.close(),
      () => this.port.close(),
      () => this.redis.quit(),
    ];
    for (const step of steps) await step().catch(() => undefined);
  }
}

@Module({})
export class AgentModule {
  static forConfig(config: AgentConfig, hostId: string): DynamicModule {
    return {
      module: AgentModule,
      controllers: [MetricsController, HealthController],
      providers: [
        { provide: AGENT_CONFIG, useValue: config },
        { provide: ModuleWatchList, useFactory: () => new ModuleWatchList() },
        {
          provide: AgentMetrics,
          inject: [KERNEL_PORT, ModuleWatchList],
          useFactory: (port: KernelPort, watch: ModuleWatchList) =>
            new AgentMetrics(AGENT_VERSION, moduleRefcountSource(port, watch, hostId)),
        },
        { provide: REDIS, useFactory: () => redisConnection(config) },
        { provide: KERNEL_ACCESS, useFactory: () => createKernelAccess(config) },
        { provide: KERNEL_PORT, inject: [KERNEL_ACCESS], useFactory: (access: KernelAccess) => access.port },
        {
          provide: SwapJobHandler,
          inject: [KERNEL_ACCESS],
          useFactory: ({ port, facts }: KernelAccess) =>
            new SwapJobHandler(
              hostId,
              port,
              new FileSwapJournal(join(config.stateDir, 'journal')),
              new HostLock(config.stateDir),
              new PtyHookExecutor({
                hooksDir: config.hooksDir,
                allowShell: config.allowShellHooks,
                logDir: join(config.stateDir, 'hooks'),
              }),
              facts,
            ),
        },
        {
          provide: SwapEventPublisher,
          inject: [REDIS],
          useFactory: (redis: RedisClient) => new SwapEventPublisher(redis),
        },
        {
          provide: SwapQueueWorker,
          inject: [REDIS, SwapJobHandler, SwapEventPublisher, AgentMetrics, ModuleWatchList],
          useFactory: (
            redis: RedisClient,
            handler: SwapJobHandler,
            publisher: SwapEventPublisher,
            metrics: AgentMetrics,
            watch: ModuleWatchList,
          ) => new SwapQueueWorker(hostId, redis, handler, publisher, metrics, logFields, watch),
        },
        {
          provide: CensusQueueWorker,
          inject: [REDIS, KERNEL_PORT],
          useFactory: (redis: RedisClient, port: KernelPort) => new CensusQueueWorker(hostId, redis, port, logFields),
        },
        {
          provide: HeartbeatService,
          inject: [REDIS, SwapQueueWorker, KERNEL_PORT, ModuleWatchList],
          useFactory: (redis: RedisClient, worker: SwapQueueWorker, port: KernelPort, watch: ModuleWatchList) =>
            new HeartbeatService(
              redis,
              hostId,
              config.labels,
              AGENT_VERSION,
              config.heartbeatMs,
              () => worker.busy(),
              logFields,
              new ModuleVersionReporter(redis, port, watch, config.heartbeatMs / 2),
            ),
        },
        AgentLifecycle,
      ],
    };
  }
}
