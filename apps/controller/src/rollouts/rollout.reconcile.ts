import {
  decide,
  isTerminalRolloutState,
  rolloutSpecOf,
  type Decision,
  type HostInfo,
  type HostStart,
  type RolloutEvent,
} from '@hotswap/rollout';
import type { RolloutRecord, RolloutSnapshot, StoredDecision } from './rollout.record.js';

/** Each round records starts or a gate; a few are enough (start, gate, next wave's start). */
const MAX_ROUNDS = 10;

export interface Reconciled {
  /** The record with the final decision in it. */
  readonly record: RolloutRecord;
  /** Events to append: an `enqueued` per start, a `gate-evaluated` per gate, in order. */
  readonly events: readonly RolloutEvent[];
  /** The jobs to add once the events are persisted, never before. */
  readonly starts: readonly HostStart[];
  /** The last decision: its `withdraw`, `queryPrometheus` and `nextWakeAt` are for the caller. */
  readonly decision: Decision;
  /** Whether anything (events or the stored decision) differs from the snapshot. */
  readonly changed: boolean;
}

/**
 * One reconcile step, pure: decide from the log, and fold back into the log what the scheduler
 * asked to record that needs no I/O (an `enqueued` event per start, the wave's SLO gate), then
 * decide again, until a decision asks for nothing more of that kind. The caller persists the
 * result with one compare-and-set and only then enqueues `starts` (so a crash in between leaves
 * an `enqueued` without a job, which the sweep repairs, never a job the log does not know).
 * Withdrawals and the Prometheus query are I/O: the caller performs them after persisting and
 * records what happened, then reconciles again.
 *
 * Recording a gate and the next wave's starts in one write also means a reader never sees the
 * fleeting `waiting-gate` between two waves of an SLO-only rollout.
 */
export function reconcile(snapshot: RolloutSnapshot, hosts: readonly HostInfo[], now: number): Reconciled {
  const { record } = snapshot;
  const rollout = rolloutSpecOf(record.runbook);
  let events = snapshot.events;
  const added: RolloutEvent[] = [];
  const starts: HostStart[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const decision = decide({ rollout, hosts, events, now });
    const next: RolloutEvent[] = decision.start.map((start) => ({ type: 'enqueued', at: now, ...start }));
    if (decision.gate !== null) {
      const { wave, verdict, detail } = decision.gate;
      next.push({ type: 'gate-evaluated', at: now, wave, verdict, detail });
    }
    if (next.length === 0) return settle(snapshot, decision, added, starts, now);
    starts.push(...decision.start);
    added.push(...next);
    events = [...events, ...next];
  }
  throw new Error(`rollout ${record.id}: the scheduler kept asking for more after ${MAX_ROUNDS} rounds`);
}

function settle(
  snapshot: RolloutSnapshot,
  decision: Decision,
  events: readonly RolloutEvent[],
  starts: readonly HostStart[],
  now: number,
): Reconciled {
  const { record } = snapshot;
  const stored: StoredDecision = {
    state: decision.state,
    reason: decision.reason,
    waves: decision.waves,
    nextWakeAt: decision.nextWakeAt,
    skipped: decision.skipped,
    failed: decision.failed,
    decidedAt: now,
  };
  const changed = events.length > 0 || !sameDecision(record.decision, stored);
  if (!changed) return { record, events, starts, decision, changed };
  // A finished rollout stays finished: its state and finishedAt are written once.
  const finishedAt = record.finishedAt ?? (isTerminalRolloutState(decision.state) ? now : null);
  return {
    record: { ...record, state: decision.state, decision: stored, updatedAt: now, finishedAt },
    events,
    starts,
    decision,
    changed,
  };
}

function sameDecision(a: StoredDecision, b: StoredDecision): boolean {
  const { decidedAt: _a, ...left } = a;
  const { decidedAt: _b, ...right } = b;
  return JSON.stringify(left) === JSON.stringify(right);
}
