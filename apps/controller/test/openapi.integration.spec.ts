import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startPrivateRedis, type PrivateRedis } from '@hotswap/tools';
import { call, newToken, startController, type TestController } from './auth-harness.js';

/**
 * The OpenAPI document and Swagger UI, generated from the running controller's routes:
 * a valid OpenAPI 3 document (checked with @apidevtools/swagger-parser) that states the
 * access policy, every GET it lists actually routed, and /docs behind the read-only role
 * (with HTTP Basic for browsers).
 */

const operator = newToken();
const viewer = newToken();

interface Operation {
  readonly security?: unknown[];
  readonly tags?: string[];
  readonly 'x-required-role'?: string;
  readonly responses: Record<string, unknown>;
  readonly parameters?: { name: string; in: string }[];
}
interface Document {
  readonly openapi: string;
  readonly info: { title: string; version: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly security?: Record<string, unknown[]>[];
  readonly components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
}

let redis: PrivateRedis;
let controller: TestController;
let document: Document;

const basic = (token: string): string => `Basic ${Buffer.from(`me:${token}`).toString('base64')}`;

describe('OpenAPI at /openapi.json and Swagger UI at /docs', { timeout: 60_000 }, () => {
  before(async () => {
    redis = await startPrivateRedis();
    controller = await startController({
      REDIS_URL: redis.url,
      HOTSWAP_TOKENS: `ops:operator:${operator},viewer:read-only:${viewer}`,
    });
    const answer = await call<Document>(controller.url, 'GET', '/openapi.json', { token: viewer });
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
    document = answer.body;
  });

  after(async () => {
    await controller?.stop().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
  });

  it('is a valid OpenAPI 3 document', async () => {
    assert.match(document.openapi, /^3\.\d+\.\d+$/);
    assert.equal(document.info.title, 'hotswap controller');
    // validate() dereferences what it is given: hand it a copy.
    const copy = structuredClone(document) as unknown as Parameters<typeof SwaggerParser.validate>[0];
    await SwaggerParser.validate(copy);
  });

  it('lists the rollout, host and audit endpoints with the role each needs', () => {
    const rollouts = document.paths['/v1/rollouts'];
    assert.ok(rollouts?.['post'] && rollouts['get'], 'POST and GET /v1/rollouts');
    assert.equal(rollouts['post']['x-required-role'], 'operator');
    assert.ok(rollouts['post'].responses['403'], 'an operator endpoint documents its 403');
    assert.equal(rollouts['get']['x-required-role'], 'read-only');
    assert.ok(document.paths['/v1/rollouts/{id}']?.['get']);
    assert.ok(document.paths['/v1/hosts']?.['get']);
    const holders = document.paths['/v1/hosts/{id}/holders']?.['get'];
    assert.equal(holders?.['x-required-role'], 'read-only', 'the live census reads only');
    assert.deepEqual(
      holders.parameters
        ?.filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
      ['bus', 'device', 'driver', 'modules', 'runbook', 'vendor'],
    );
    assert.ok(holders.responses['504'], 'documents the answer for a host that does not answer');
    assert.equal(document.paths['/v1/audit']?.['get']?.['x-required-role'], 'read-only');
    assert.deepEqual(document.paths['/v1/audit']?.['get']?.tags, ['Audit']);
  });

  it('declares bearer auth globally, and no security for /healthz and /metrics', () => {
    assert.deepEqual(document.components?.securitySchemes?.['bearer'], {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'opaque',
      description: 'an API token (HOTSWAP_TOKENS_FILE)',
    });
    assert.deepEqual(document.security, [{ bearer: [] }]);
    assert.deepEqual(document.paths['/healthz']?.['get']?.security, []);
    assert.deepEqual(document.paths['/metrics']?.['get']?.security, []);
  });

  it('lists only routes that exist: every GET without parameters answers', async () => {
    const plain = Object.entries(document.paths).filter(([path, item]) => !path.includes('{') && item['get']);
    assert.ok(plain.length >= 4);
    for (const [path] of plain) {
      const answer = await call(controller.url, 'GET', path, { token: viewer });
      assert.ok(answer.status !== 404 && answer.status < 500, `GET ${path} answered ${answer.status}`);
    }
  });

  it('needs a token: the read-only role is enough, and the answer offers Basic to browsers', async () => {
    for (const path of ['/openapi.json', '/docs', '/docs/swagger-ui-init.js']) {
      const none = await call(controller.url, 'GET', path);
      assert.equal(none.status, 401, path);
      assert.equal(none.body['error'], 'UNAUTHENTICATED');
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="hotswap", Basic realm=/);
      const wrong = await call(controller.url, 'GET', path, { headers: { authorization: basic(newToken()) } });
      assert.equal(wrong.status, 401, path);
    }
    assert.equal((await call(controller.url, 'GET', '/openapi.json', { token: operator })).status, 200);
  });

  it('serves Swagger UI at /docs, with the document inlined and its assets', async () => {
    const page = await call(controller.url, 'GET', '/docs', { headers: { authorization: basic(viewer) } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(String(page.body), /<title>hotswap controller API<\/title>/);
    assert.match(String(page.body), /swagger-ui-bundle\.js/);

    const init = await call(controller.url, 'GET', '/docs/swagger-ui-init.js', { token: viewer });
    assert.equal(init.status, 200);
    assert.match(String(init.body), /"\/v1\/rollouts"/);
    assert.doesNotThrow(() => new Function(String(init.body)), 'the init script parses');

    const bundle = await call(controller.url, 'GET', '/docs/swagger-ui-bundle.js', { token: viewer });
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
  });
});
