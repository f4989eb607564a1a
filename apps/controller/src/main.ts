import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { loadControllerConfig } from './controller.config.js';
import { CONTROLLER_VERSION } from './controller.version.js';
import { useApiBodyParsers } from './http/body-parsers.js';
import { listenUrl } from './http/listen-url.js';
import { NestPinoLogger, createControllerLogger } from './logging/controller.logger.js';

/** hotswap-controller: configuration from the environment (see controller.config.ts). */
async function bootstrap(): Promise<void> {
  const config = loadControllerConfig(process.env);
  const logger = createControllerLogger(config.logLevel);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, logger), {
    bodyParser: false,
    logger: new NestPinoLogger(logger),
  });
  useApiBodyParsers(app);
  // SIGTERM/SIGINT → app.close(): worker and queues, then Redis (see AppModule).
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const url = listenUrl(app.getHttpServer().address(), config.host);
  logger.info({ url, version: CONTROLLER_VERSION }, 'controller listening');
  // The one line on stdout, for whoever started us (tests, the demo) to learn the port.
  process.stdout.write(`${JSON.stringify({ msg: 'controller listening', url })}\n`);
}

bootstrap().catch((error: unknown) => {
  const detail = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'controller failed to start', error: detail })}\n`);
  process.exit(1);
});
