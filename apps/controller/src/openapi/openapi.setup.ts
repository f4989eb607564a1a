import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { bearerChallenge } from '../auth/auth.errors.js';
import { authorizeRequest } from '../auth/request.authorizer.js';
import type { TokenAuthenticator } from '../auth/token.authenticator.js';
import { BEARER_SCHEME, withAccessPolicy } from './openapi.document.js';

export const OPENAPI_JSON_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

/** The little of Express's request and response the docs middleware uses. */
interface DocsRequest {
  readonly method: string;
  readonly originalUrl: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}
interface DocsResponse {
  setHeader(name: string, value: string): void;
  status(code: number): { json(body: unknown): void };
}

/**
 * The OpenAPI document, generated from the controllers' routes and decorators at the first
 * request, served at /openapi.json, and Swagger UI at /docs (its assets from swagger-ui-dist,
 * the document inlined in /docs/swagger-ui-init.js).
 *
 * @nestjs/swagger mounts these routes on Express directly, past Nest's guards, so a
 * middleware in front of them applies the same access policy (read-only). It also takes the
 * token as the password of HTTP Basic (any user name) and asks a browser for it, so that a
 * person can open /docs; the API itself takes bearer tokens only.
 */
export function useOpenApi(app: NestExpressApplication, authenticator: TokenAuthenticator, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('hotswap controller')
    .setDescription(
      'Rolls kernel driver module upgrades out across a fleet. Every call but /healthz and /metrics needs ' +
        '`Authorization: Bearer <token>`: reads need the `read-only` role, changes the `operator` role. ' +
        'Errors are `{"error": CODE, "message": ...}`. Every change is recorded in the audit log (GET /v1/audit).',
    )
    .setVersion(version)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'an API token (HOTSWAP_TOKENS_FILE)' },
      BEARER_SCHEME,
    )
    .addSecurityRequirements(BEARER_SCHEME)
    .build();

  app.use([OPENAPI_JSON_PATH, DOCS_PATH], (request: DocsRequest, response: DocsResponse, next: () => void) => {
    const authorization = request.headers['authorization'];
    const decision = authorizeRequest(
      authenticator,
      {
        method: request.method,
        path: request.originalUrl.split('?')[0] ?? '',
        authorization: Array.isArray(authorization) ? authorization[0] : authorization,
      },
      { basic: true },
    );
    if (decision.allowed) return next();
    const { error } = decision;
    const challenge = bearerChallenge(error);
    response.setHeader(
      'WWW-Authenticate',
      error.status === 401 ? `${challenge}, Basic realm="hotswap API docs", charset="UTF-8"` : challenge,
    );
    response.status(error.status).json({ error: error.code, message: error.message, ...error.details });
  });

  SwaggerModule.setup(DOCS_PATH.slice(1), app, () => withAccessPolicy(SwaggerModule.createDocument(app, config)), {
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    raw: ['json'],
    customSiteTitle: 'hotswap controller API',
  });
}
