import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-client.js';
import { REDIS } from '../redis/redis.provider.js';

/** A health check must answer fast even while ioredis is still retrying a dead connection. */
const PING_TIMEOUT_MS = 1000;

interface StatusResponse {
  status(code: number): { json(body: unknown): void };
}

@Controller()
export class HealthController {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /** 200 `{status:'ok', redis:'up'}` when Redis answers PING in time, else 503. */
  @Get('healthz')
  async health(@Res() response: StatusResponse): Promise<void> {
    const up = await this.ping();
    response
      .status(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .json({ status: up ? 'ok' : 'unavailable', redis: up ? 'up' : 'down' });
  }

  private async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), PING_TIMEOUT_MS)));
      return (await Promise.race([this.redis.ping(), timeout])) === 'PONG';
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
