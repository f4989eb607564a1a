import { Inject, Injectable } from '@nestjs/common';
import type { PrometheusQueryResult } from '@hotswap/rollout';
import { CONTROLLER_CONFIG } from '../controller.tokens.js';
import type { ControllerConfig } from '../controller.config.js';

/** A gate query must not hold a rollout's reconcile for long. */
const QUERY_TIMEOUT_MS = 5000;

/**
 * Runs a runbook's Prometheus gate query (an instant query, `GET /api/v1/query`) against the
 * Prometheus of the controller's configuration (`PROMETHEUS_URL`). Never throws: every failure,
 * a missing URL included, is a result the gate records as `error` (libs/rollout
 * `prometheusGateStatus`), which holds the rollout until the query works or an operator resumes.
 */
@Injectable()
export class PrometheusClient {
  constructor(@Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig) {}

  async query(promql: string, now: number): Promise<PrometheusQueryResult> {
    const base = this.config.prometheusUrl;
    if (!base) {
      return {
        ok: false,
        error: 'no Prometheus configured: set PROMETHEUS_URL on the controller, or resume to go on without the gate',
      };
    }
    const url = `${base}/api/v1/query?${new URLSearchParams({ query: promql, time: String(now / 1000) })}`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) });
      const body = (await response.json().catch(() => null)) as PrometheusResponse | null;
      if (!response.ok || body?.status !== 'success') {
        return { ok: false, error: `HTTP ${response.status}${body?.error ? `: ${body.error}` : ''}` };
      }
      return { ok: true, values: valuesOf(body.data) };
    } catch (error) {
      return { ok: false, error: `${base} unreachable: ${(error as Error).message}` };
    }
  }
}

interface PrometheusResponse {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Instant vectors give one sample per series, scalars one; anything else gives none. */
function valuesOf(data: PrometheusResponse['data']): number[] {
  const sample = (value: unknown): number => (Array.isArray(value) ? Number(value[1]) : NaN);
  if (data?.resultType === 'scalar') return [sample(data.result)];
  if (data?.resultType === 'vector' && Array.isArray(data.result)) {
    return data.result.map((series: { value?: unknown }) => sample(series?.value));
  }
  return [];
}
