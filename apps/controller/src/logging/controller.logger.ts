import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON logs on stderr, a constant `msg` plus fields. stdout is reserved for the one
 * machine-readable "listening" line that whoever started us reads.
 */
export function createControllerLogger(level: string): Logger {
  return pino(
    {
      name: 'hotswap-controller',
      level,
      // Nothing secret is logged on purpose; this catches a Redis URL with a password, a Redis
      // password and an Authorization header should one end up in a log call.
      redact: {
        paths: [
          ...['redisUrl', '*.redisUrl', 'redisPassword', '*.redisPassword', 'password', '*.password'],
          ...['authorization', '*.authorization', 'headers.authorization', '*.headers.authorization'],
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

/**
 * Nest's own messages (route mapping, bootstrap errors) through pino, so nothing Nest prints
 * lands on stdout as coloured text. Its free-text message becomes a field.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.debug({ context, detail: describe(message) }, 'nest');
  }
  /** Nest calls this as (message, context) or (message, stack, context). */
  error(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? String(rest[rest.length - 1]) : undefined;
    const stack = rest.length > 1 ? String(rest[0]) : undefined;
    this.logger.error({ context, detail: describe(message), stack }, 'nest error');
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context, detail: describe(message) }, 'nest warning');
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context, detail: describe(message) }, 'nest');
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context, detail: describe(message) }, 'nest');
  }
}

function describe(message: unknown): string {
  if (message instanceof Error) return message.stack ?? message.message;
  return typeof message === 'string' ? message : JSON.stringify(message);
}
