import type { NestExpressApplication } from '@nestjs/platform-express';

/** A runbook is a few kilobytes; this leaves room for big host lists and nothing more. */
const BODY_LIMIT = '1mb';

/** YAML is read as raw text, so the runbook parser can report line and column. */
export const YAML_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** Replaces Nest's default parsers (JSON and urlencoded) with the two the API accepts. */
export function useApiBodyParsers(app: NestExpressApplication): void {
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('text', { type: YAML_MEDIA_TYPES, limit: BODY_LIMIT });
}
