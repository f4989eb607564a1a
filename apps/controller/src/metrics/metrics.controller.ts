import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ControllerMetrics } from './controller.metrics.js';

@Controller()
export class MetricsController {
  constructor(@Inject(ControllerMetrics) private readonly metrics: ControllerMetrics) {}

  /** The controller's own registry only (never prom-client's global default one). */
  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
