import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ControllerConfig } from '../src/controller.config.js';
import { PrometheusClient } from '../src/gates/prometheus.client.js';

/** A stand-in for Prometheus's /api/v1/query: answers by query text. */
const ANSWERS: Record<string, { status: number; body: unknown }> = {
  vector: {
    status: 200,
    body: {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: {}, value: [1, '0.25'] },
          { metric: {}, value: [1, 'NaN'] },
        ],
      },
    },
  },
  scalar: { status: 200, body: { status: 'success', data: { resultType: 'scalar', result: [1, '3'] } } },
  empty: { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } },
  bad: { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error at char 3' } },
};

describe('PrometheusClient', () => {
  let server: Server;
  let url = '';
  const seen: URLSearchParams[] = [];
  const client = (prometheusUrl: string | null) =>
    new PrometheusClient({ prometheusUrl } as unknown as ControllerConfig);

  before(async () => {
    server = createServer((request, response) => {
      const params = new URL(request.url ?? '/', 'http://x').searchParams;
      seen.push(params);
      const answer = ANSWERS[params.get('query') ?? ''] ?? ANSWERS['bad']!;
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads instant vectors and scalars as sample values, at the time asked', async () => {
    const vector = await client(url).query('vector', 1_700_000_000_000);
    assert.equal(vector.ok, true);
    assert.deepEqual(vector.ok && vector.values.map(String), ['0.25', 'NaN']);
    assert.equal(seen.at(-1)?.get('time'), '1700000000');
    assert.deepEqual(await client(url).query('scalar', Date.now()), { ok: true, values: [3] });
    assert.deepEqual(await client(url).query('empty', Date.now()), { ok: true, values: [] });
  });

  it('turns every failure into a result the gate records as an error', async () => {
    assert.deepEqual(await client(url).query('bad', Date.now()), {
      ok: false,
      error: 'HTTP 400: parse error at char 3',
    });
    const down = await client('http://127.0.0.1:1').query('vector', Date.now());
    assert.equal(down.ok, false);
    assert.match(!down.ok ? down.error : '', /127\.0\.0\.1:1 unreachable/);
    const none = await client(null).query('vector', Date.now());
    assert.match(!none.ok ? none.error : '', /set PROMETHEUS_URL/);
  });
});
