import type { SwapDirection, SwapReport } from '@hotswap/contracts';
import type { Runbook } from '@hotswap/runbook';
import { nextSequentialStep } from './next-sequential-step.js';
import {
  ROLLOUT_RECORD_VERSION,
  isSwapOutcome,
  type HostRecord,
  type HostStep,
  type RolloutRecord,
} from './rollout.record.js';

/**
 * How a rollout record changes: pure functions, no I/O. Each returns the next record, or says
 * why nothing changed, so that a redelivered event is a no-op and the caller can count it.
 */

/** Enough to follow a swap live; the report carries the full step history at the end. */
export const MAX_STEPS_PER_HOST = 100;

/** What became of an event: `rejected` ones are malformed for this rollout and never retried. */
export type EventDisposition = 'applied' | 'duplicate' | 'ignored' | 'rejected';

export interface EventOutcome {
  readonly record: RolloutRecord | null;
  readonly disposition: EventDisposition;
  readonly reason?: string;
}

interface EventEnvelope {
  readonly hostId: string;
  readonly swapId: string;
  readonly direction: SwapDirection;
  readonly at: number;
}
export interface StepInput extends EventEnvelope {
  readonly phase: string;
  readonly status: string;
  readonly detail?: string | undefined;
}
export interface ResultInput extends EventEnvelope {
  readonly report: SwapReport;
}

export function createRollout(id: string, runbook: Runbook, hostIds: readonly string[], now: number): RolloutRecord {
  return {
    v: ROLLOUT_RECORD_VERSION,
    id,
    name: runbook.metadata.name,
    state: 'running',
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
    runbook,
    hosts: hostIds.map((hostId) => ({
      hostId,
      state: 'pending',
      steps: [],
      report: null,
      swapId: null,
      queuedAt: null,
    })),
  };
}

/**
 * Lets the scheduler decide, once: start the next host (it becomes `queued`: the caller then
 * enqueues its job), finish the rollout, or nothing while a host is in flight.
 */
export function advance(record: RolloutRecord, now: number): RolloutRecord {
  if (record.state !== 'running') return record;
  const step = nextSequentialStep(record);
  switch (step.kind) {
    case 'wait':
      return record;
    case 'start':
      return withHost(record, step.hostId, (host) => ({ ...host, state: 'queued', queuedAt: now }), now);
    case 'finish':
      return { ...record, state: step.state, finishedAt: now, updatedAt: now };
  }
}

export function applyStep(record: RolloutRecord, event: StepInput, now: number): EventOutcome {
  const host = record.hosts.find((h) => h.hostId === event.hostId);
  if (!host) return rejectUnknownHost(record, event.hostId);
  // The spine starts no rollback; a rollback's events have no host state to update here.
  if (event.direction !== 'forward') return { record: null, disposition: 'ignored', reason: 'rollback event' };
  const step: HostStep = {
    phase: event.phase,
    status: event.status,
    at: event.at,
    ...(event.detail === undefined ? {} : { detail: event.detail }),
  };
  if (host.steps.some((s) => sameStep(s, step))) return { record: null, disposition: 'duplicate' };
  // Events can arrive out of order (retries, several replicas): keep the steps sorted by time.
  const steps = [...host.steps, step].sort((a, b) => a.at - b.at).slice(-MAX_STEPS_PER_HOST);
  // A late step never reopens a host that already reported its result.
  const state = host.state === 'pending' || host.state === 'queued' ? 'running' : host.state;
  return { record: withHost(record, host.hostId, (h) => ({ ...h, steps, state }), now), disposition: 'applied' };
}

/** Records a host's result, then lets the scheduler move on (start the next host or finish). */
export function applyResult(record: RolloutRecord, event: ResultInput, now: number): EventOutcome {
  const host = record.hosts.find((h) => h.hostId === event.hostId);
  if (!host) return rejectUnknownHost(record, event.hostId);
  if (!isSwapOutcome(event.report.outcome)) {
    return { record: null, disposition: 'rejected', reason: `unknown outcome ${JSON.stringify(event.report.outcome)}` };
  }
  if (event.direction !== 'forward') return { record: null, disposition: 'ignored', reason: 'rollback event' };
  if (host.swapId === event.swapId) return { record: null, disposition: 'duplicate' };
  if (host.swapId !== null) {
    return { record: null, disposition: 'ignored', reason: `host already reported swap ${host.swapId}` };
  }
  const outcome = event.report.outcome;
  const recorded = withHost(
    record,
    host.hostId,
    (h) => ({ ...h, state: outcome, report: event.report, swapId: event.swapId }),
    now,
  );
  return { record: advance(recorded, now), disposition: 'applied' };
}

function withHost(
  record: RolloutRecord,
  hostId: string,
  change: (host: HostRecord) => HostRecord,
  now: number,
): RolloutRecord {
  return { ...record, updatedAt: now, hosts: record.hosts.map((h) => (h.hostId === hostId ? change(h) : h)) };
}

function rejectUnknownHost(record: RolloutRecord, hostId: string): EventOutcome {
  return {
    record: null,
    disposition: 'rejected',
    reason: `host ${JSON.stringify(hostId)} is not part of rollout ${record.id}`,
  };
}

const sameStep = (a: HostStep, b: HostStep): boolean =>
  a.at === b.at && a.phase === b.phase && a.status === b.status && a.detail === b.detail;
