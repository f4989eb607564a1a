import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { REDIS } from '../agent.tokens.js';
import type { RedisClient } from '../queue/redis-connection.js';

@Controller()
export class HealthController {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  @Get('healthz')
  async health(): Promise<{ status: string; redis: string }> {
    try {
      await this.redis.ping();
      return { status: 'ok', redis: 'up' };
    } catch {
      throw new HttpException({ status: 'degraded', redis: 'down' }, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }
}
