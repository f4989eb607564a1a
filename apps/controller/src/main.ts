import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { TokenAuthenticator } from './auth/token.authenticator.js';
import { loadControllerConfig } from './controller.config.js';
import { CONTROLLER_VERSION } from './controller.version.js';
import { useApiBodyParsers } from './http/body-parsers.js';
import { listenUrl } from './http/listen-url.js';
import { NestPinoLogger, createControllerLogger } from './logging/controller.logger.js';
import { useOpenApi } from './openapi/openapi.setup.js';

/** hotswap-controller: configuration from the environment (see controller.config.ts). */
async function bootstrap(): Promise<void> {
  const config = loadControllerConfig(process.env);
  const logger = createControllerLogger(config.logLevel);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, logger), {
    bodyParser: false,
    // A provider that fails (Redis refusing the credentials) rejects here: reported below.
    abortOnError: false,
    logger: new NestPinoLogger(logger),
  });
  useApiBodyParsers(app);
  useOpenApi(app, app.get(TokenAuthenticator), CONTROLLER_VERSION);
  if (config.auth.mode === 'open') {
    logger.warn({ auth: 'open' }, 'AUTHENTICATION IS OFF (HOTSWAP_AUTH=open): every caller is an operator');
  } else {
    const tokens = config.auth.tokens.map(({ name, role }) => ({ name, role }));
    logger.info({ tokens, sources: config.auth.sources }, 'api tokens loaded');
  }
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
