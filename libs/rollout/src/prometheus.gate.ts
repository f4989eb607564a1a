import type { Comparison, PrometheusGate } from '@hotswap/runbook';
import type { PrometheusGateStatus } from './rollout.types.js';

export function conditionHolds(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** What a Prometheus instant query gave, as the controller's adapter reports it. */
export type PrometheusQueryResult =
  { readonly ok: true; readonly values: readonly number[] } | { readonly ok: false; readonly error: string };

/**
 * The status to record as a `prometheus-gate` event. Every returned sample must satisfy the
 * condition (a vector of one series per host must hold for each). An empty vector is not a
 * pass: a typo in a label selector returns nothing, and must not wave a rollout through. NaN
 * (e.g. a rate over no data) fails every comparison and so reads "false".
 */
export function prometheusGateStatus(
  result: PrometheusQueryResult,
  gate: PrometheusGate,
): { status: PrometheusGateStatus; detail: string } {
  if (!result.ok) return { status: 'error', detail: `query failed: ${result.error}` };
  if (result.values.length === 0) return { status: 'empty', detail: `query returned no samples: ${gate.query}` };
  const { op, value } = gate.condition;
  const failing = result.values.filter((sample) => !conditionHolds(sample, op, value));
  const shown = `${gate.query} ${op} ${value}`;
  if (failing.length > 0) {
    return {
      status: 'false',
      detail: `${failing.length} of ${result.values.length} sample(s) fail ${shown} (e.g. ${failing[0]})`,
    };
  }
  return { status: 'ok', detail: `${result.values.length} sample(s) satisfy ${shown}` };
}
