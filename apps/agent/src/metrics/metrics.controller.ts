import { Controller, Get, Header, Inject } from '@nestjs/common';
import { AgentMetrics } from './agent.metrics.js';

@Controller()
export class MetricsController {
  constructor(@Inject(AgentMetrics) private readonly metrics: AgentMetrics) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
