import type { OpenAPIObject } from '@nestjs/swagger';

type SchemaObject = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string];
import { requiredRole } from '../auth/access.policy.js';

export const BEARER_SCHEME = 'bearer';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'a stable code: UNAUTHENTICATED, FORBIDDEN, RUNBOOK_INVALID, ...' },
    message: { type: 'string', description: 'what went wrong and what to do about it' },
  },
  additionalProperties: true,
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/**
 * States the access policy in the generated document, from the same function the guard
 * enforces: open endpoints get `security: []`, the others the role they need
 * (`x-required-role`, and a line in the description) and their 401/403 answers. Operations
 * without a tag get the resource's name (`/v1/rollouts/{id}` → `rollouts`).
 */
export function withAccessPolicy(document: OpenAPIObject): OpenAPIObject {
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, Error: ERROR_SCHEMA },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      if (!operation.tags || operation.tags.length === 0) operation.tags = [tagOf(path)];
      const role = requiredRole(method, path);
      if (role === null) {
        operation.security = [];
        operation.description = joined(operation.description, 'Open: no token needed (for scrapers and probes).');
        continue;
      }
      Object.assign(operation, { 'x-required-role': role });
      operation.description = joined(operation.description, `Requires a bearer token with the \`${role}\` role.`);
      operation.responses = {
        ...operation.responses,
        401: errorResponse('UNAUTHENTICATED: no token, or not a valid one (WWW-Authenticate: Bearer)'),
        // Every valid token can read: only operator endpoints can answer 403.
        ...(role === 'operator' ? { 403: errorResponse('FORBIDDEN: the token has the read-only role') } : {}),
      };
    }
  }
  return document;
}

function tagOf(path: string): string {
  const segments = path.split('/').filter(Boolean);
  const resource = segments[0] === 'v1' ? segments[1] : undefined;
  return resource ?? 'operations';
}

const joined = (text: string | undefined, line: string): string => (text ? `${text}\n\n${line}` : line);
