import { swapJobId, type SwapDirection, type SwapReport } from '@hotswap/contracts';
import { foldHistory, isTerminalRolloutState, type RolloutEvent } from '@hotswap/rollout';
import type { Runbook } from '@hotswap/runbook';
import { RolloutCommandNotApplicableError } from '../errors/controller.errors.js';
import {
  ROLLOUT_RECORD_VERSION,
  isSwapOutcome,
  type RolloutHost,
  type RolloutRecord,
  type RolloutSnapshot,
} from './rollout.record.js';

/**
 * What an agent's result or an operator's command adds to a rollout's event log: pure
 * functions from a snapshot to the events to append (or why none), so a redelivered result is
 * a no-op and a command that means nothing in the current state is refused before anything is
 * written. What the scheduler then decides is rollout.reconcile.ts's business.
 */

/** What became of an agent event: `rejected` ones are malformed for this rollout and never retried. */
export type EventDisposition = 'applied' | 'duplicate' | 'ignored' | 'rejected';

export interface ResultInput {
  readonly hostId: string;
  readonly swapId: string;
  readonly direction: SwapDirection;
  readonly report: SwapReport;
}

export interface ResultOutcome {
  readonly disposition: EventDisposition;
  /** The `result` event to append (applied only). */
  readonly event?: RolloutEvent;
  readonly reason?: string;
}

export function newRolloutRecord(
  id: string,
  runbook: Runbook,
  runbookRef: RolloutRecord['runbookRef'],
  hosts: readonly RolloutHost[],
  now: number,
): RolloutRecord {
  return {
    v: ROLLOUT_RECORD_VERSION,
    id,
    name: runbook.metadata.name,
    state: 'running',
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
    runbook,
    runbookRef,
    hosts,
    decision: {
      state: 'running',
      reason: 'created',
      waves: [],
      nextWakeAt: null,
      skipped: [],
      failed: [],
      decidedAt: now,
    },
  };
}

/**
 * A host's result becomes a `result` event if, and only if, the log has that host in flight in
 * that direction: a redelivery of a result already recorded is a duplicate, a result for a job
 * the log does not have in flight (withdrawn) is ignored. The swap id is the job id the
 * controller chose, so a result under another id is not ours to record.
 */
export function applyResult(snapshot: RolloutSnapshot, input: ResultInput, now: number): ResultOutcome {
  const { record, events } = snapshot;
  if (!record.hosts.some((host) => host.hostId === input.hostId)) {
    return {
      disposition: 'rejected',
      reason: `host ${JSON.stringify(input.hostId)} is not part of rollout ${record.id}`,
    };
  }
  const outcome = input.report?.outcome;
  if (!isSwapOutcome(outcome)) {
    return { disposition: 'rejected', reason: `unknown outcome ${JSON.stringify(outcome)}` };
  }
  const expected = swapJobId(record.id, input.hostId, input.direction);
  if (input.swapId !== expected) {
    return { disposition: 'ignored', reason: `swap id ${input.swapId} is not this rollout's job ${expected}` };
  }
  const host = foldHistory(events, record.runbook.spec.failurePolicy).hosts.get(input.hostId);
  if (host?.inFlight !== input.direction) {
    const recorded = events.some(
      (e) => e.type === 'result' && e.hostId === input.hostId && e.direction === input.direction,
    );
    return recorded
      ? { disposition: 'duplicate' }
      : { disposition: 'ignored', reason: `no ${input.direction} swap of ${input.hostId} in flight (withdrawn?)` };
  }
  const recoveries = Array.isArray(input.report.recoveries) ? input.report.recoveries : [];
  return {
    disposition: 'applied',
    event: {
      type: 'result',
      at: now,
      hostId: input.hostId,
      direction: input.direction,
      outcome,
      recoveries: recoveries.map(({ status, seconds }) => ({ status, seconds })),
    },
  };
}

export const OPERATOR_COMMANDS = ['pause', 'resume', 'abort', 'rollback'] as const;
export type OperatorCommand = (typeof OPERATOR_COMMANDS)[number];

/**
 * The event an operator's command appends, or a 409 that says why it does not apply:
 * - pause: not finished, not aborting, not paused already (a rollback can be paused);
 * - resume: paused (by an operator, a failure or a gate breach), or held by its Prometheus gate;
 * - abort: not finished, not aborting already;
 * - rollback: not finished, not aborting, not rolling back already.
 */
export function commandEvent(
  snapshot: RolloutSnapshot,
  command: OperatorCommand,
  now: number,
  by?: string,
): RolloutEvent {
  const { record, events } = snapshot;
  const refuse = (why: string): never => {
    throw new RolloutCommandNotApplicableError(record.id, command, record.state, why);
  };
  if (isTerminalRolloutState(record.state)) refuse('it has finished');
  const history = foldHistory(events, record.runbook.spec.failurePolicy);
  if (history.aborted !== null) refuse('it is being aborted: running swaps finish, then it ends');
  const who = by === undefined ? {} : { by };
  switch (command) {
    case 'pause':
      if (history.pauseReason !== null) refuse('it is paused already');
      return { type: 'paused', at: now, ...who };
    case 'resume': {
      const heldByPrometheus = [...history.prometheus.values()].some(
        (gate) => gate.status !== 'ok' && !gate.overridden,
      );
      if (history.pauseReason === null && !(heldByPrometheus && record.state === 'waiting-gate')) {
        refuse('it is not paused');
      }
      return { type: 'resumed', at: now, ...who };
    }
    case 'abort':
      return { type: 'aborted', at: now, ...who };
    case 'rollback':
      if (history.rollingBack !== null) refuse('it is rolling back already');
      return { type: 'rollback-requested', at: now, ...who };
  }
}
