import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { parseScenario } from '@hotswap/kernel';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { HOST_ID_PATTERN } from '@hotswap/contracts';
import { AgentModule } from './agent.module.js';
import type { AgentConfig } from './config/agent.config.js';
import { HeartbeatService } from './registry/heartbeat.service.js';
import { logger } from './logger.js';

/** The agent daemon: registers its host, takes swap jobs from its queue, serves /metrics and /healthz. */
export async function runDaemon(config: AgentConfig): Promise<void> {
  const hostId = config.hostId ?? (await defaultHostId(config));
  const app = await NestFactory.create(AgentModule.forConfig(config, hostId), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(config.port, config.bind);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  app.get(HeartbeatService).metricsUrl = `${url}/metrics`;
  logger.info({ hostId, url }, 'agent listening');
  // One machine-readable line on stdout for whoever started us (tests, the demo).
  process.stdout.write(`${JSON.stringify({ msg: 'agent listening', hostId, url })}\n`);
}

/** Without --host-id: the scenario's host (sim), or this machine's short hostname (linux). */
async function defaultHostId(config: AgentConfig): Promise<string> {
  if (config.kernel === 'linux') {
    const name = hostname().split('.')[0]?.toLowerCase() ?? '';
    if (!HOST_ID_PATTERN.test(name)) throw new Error(`hostname "${name}" is not a valid host id: pass --host-id`);
    return name;
  }
  if (!config.scenario) throw new Error('--host-id is required (or --kernel sim with --scenario)');
  return parseScenario(await readFile(config.scenario, 'utf8')).host;
}
