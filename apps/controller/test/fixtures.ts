import type { SwapOutcome, SwapReport } from '@hotswap/contracts';
import { validateRunbook, type Runbook } from '@hotswap/runbook';

/**
 * A small valid runbook (as a plain object, the way a JSON body arrives) for these hosts; `spec`
 * adds or replaces sections (strategy, slo, failurePolicy, ...).
 */
export function runbookBody(
  name: string,
  hosts: readonly string[],
  spec: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'hotswap/v1',
    kind: 'Runbook',
    metadata: { name },
    spec: {
      modules: [{ name: 'hs_misc', target: { version: '2.0' } }],
      devices: { bus: 'platform', driver: 'hs_misc' },
      blockedUnbind: { policy: 'fail' },
      hosts: { names: [...hosts] },
      ...spec,
    },
  };
}

export const runbookFor = (name: string, hosts: readonly string[], spec: Record<string, unknown> = {}): Runbook =>
  validateRunbook(runbookBody(name, hosts, spec));

/** A report as an agent would send it; recoveries given as [status, seconds] pairs. */
export function reportFor(
  hostId: string,
  swapId: string,
  outcome: SwapOutcome,
  recoveries: readonly [SwapReport['recoveries'][number]['status'], number | null][] = [],
): SwapReport {
  return {
    swapId,
    hostId,
    outcome,
    modules: ['hs_misc'],
    fromVersion: '1.0',
    toVersion: outcome === 'succeeded' ? '2.0' : '1.0',
    fromSrcversion: 'AAAA',
    toSrcversion: outcome === 'succeeded' ? 'BBBB' : 'AAAA',
    devices: ['hs_misc.0'],
    steps: [],
    holdersBefore: [],
    zombieFds: recoveries.length,
    recoveries: recoveries.map(([status, seconds], i) => ({
      pid: 1000 + i,
      comm: `app${i}`,
      unit: null,
      status,
      seconds,
      predictedErrno: 'ENODEV',
    })),
    blockedUnbind: null,
    error: outcome === 'succeeded' || outcome === 'skipped' ? null : `swap ${outcome}`,
    startedAt: 1,
    endedAt: 2,
  };
}
