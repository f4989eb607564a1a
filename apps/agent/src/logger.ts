import { pino } from 'pino';

/** JSON logs to stderr (stdout is kept for machine-readable output): a constant msg plus fields. */
export const logger = pino({ name: 'hotswap-agent', level: process.env['LOG_LEVEL'] ?? 'info' }, pino.destination(2));

export const logFields = (msg: string, fields: object): void => logger.info(fields, msg);
