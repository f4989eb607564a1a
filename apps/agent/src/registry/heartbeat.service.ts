import { HOSTS_KEY, hostKey } from '@hotswap/contracts';
import { release } from 'node:os';
import type { ModuleVersionReporter } from './module-version.reporter.js';
import type { RedisClient } from '../queue/redis-connection.js';

/**
 * Registers this host in the controller's registry: a hash per host with the HostHeartbeat
 * fields (labels JSON-encoded, numbers as strings, busy as "1"/"0") and its last-seen time as
 * its score in the HOSTS_KEY sorted set. Written at once, then every interval. The module
 * versions (`modules`, JSON) are read from the kernel before each write; when that read fails the
 * field keeps its last value rather than the heartbeat failing (the host is still alive).
 */
export class HeartbeatService {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly hostId: string,
    private readonly labels: Record<string, string>,
    private readonly agentVersion: string,
    private readonly intervalMs: number,
    private readonly busy: () => boolean,
    private readonly log: (msg: string, fields: object) => void,
    private readonly modules: ModuleVersionReporter | null = null,
  ) {}

  metricsUrl: string | null = null;

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((error: Error) => this.log('heartbeat failed', { error: error.message }));
    }, this.intervalMs);
  }

  async beat(): Promise<void> {
    const modules = await this.modules?.read().catch((error: Error) => {
      this.log('module versions not read', { error: error.message });
      return null;
    });
    const now = Date.now();
    await this.redis
      .multi()
      .hset(hostKey(this.hostId), {
        hostId: this.hostId,
        agentVersion: this.agentVersion,
        kernel: release(),
        labels: JSON.stringify(this.labels),
        lastSeen: String(now),
        busy: this.busy() ? '1' : '0',
        metricsUrl: this.metricsUrl ?? '',
        ...(modules ? { modules: JSON.stringify(modules) } : {}),
      })
      .zadd(HOSTS_KEY, now, this.hostId)
      .exec();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
