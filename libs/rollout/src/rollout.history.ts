import type { SwapOutcome } from '@hotswap/contracts';
import type { FailurePolicy } from '@hotswap/runbook';
import type { Direction, GateVerdict, PrometheusGateStatus, RecoverySample, RolloutEvent } from './rollout.types.js';

/** Forward outcomes that count as a failure for the failure policy. */
export const FAILED_OUTCOMES: ReadonlySet<SwapOutcome> = new Set(['failed', 'failed-restored', 'refused', 'expired']);
/** Forward outcomes after which the host may differ from before the rollout: worth swapping back. */
export const TOUCHED_OUTCOMES: ReadonlySet<SwapOutcome> = new Set(['succeeded', 'failed', 'failed-restored']);
/** Rollback outcomes that leave the host on its previous version. */
const ROLLED_BACK_OUTCOMES: ReadonlySet<SwapOutcome> = new Set(['succeeded', 'skipped']);

/** One host, as the events tell it. */
export interface HostRecord {
  /** The job on the host's queue without a result yet, if any: the host is in flight. */
  inFlight: Direction | null;
  /** The wave of its forward job; null until enqueued (and again once withdrawn). */
  wave: number | null;
  startedForward: boolean;
  startedRollback: boolean;
  forwardOutcome: SwapOutcome | null;
  rollbackOutcome: SwapOutcome | null;
  recoveries: readonly RecoverySample[];
}

export interface History {
  readonly hosts: Map<string, HostRecord>;
  readonly gates: Map<number, { verdict: GateVerdict; detail: string; at: number }>;
  /** The latest Prometheus evaluation per wave; `overridden` when an operator resumed after it. */
  readonly prometheus: Map<number, { status: PrometheusGateStatus; detail: string; at: number; overridden: boolean }>;
  /** Why the rollout is paused (operator, failure, breach), or null. */
  pauseReason: string | null;
  aborted: string | null;
  /** Why the rollout is rolling back (policy rollback-all, operator), or null. */
  rollingBack: string | null;
  readonly failedRollbacks: string[];
}

const by = (event: { by?: string }): string => (event.by === undefined ? '' : ` (${event.by})`);

/**
 * Folds the events, in order, into what the scheduler decides from. The failure policy applies
 * here, at the event that triggers it, so that a later `resumed` clears a failure's pause and
 * the order of failures and commands is respected. Stale events are ignored: a result for a
 * host not in flight in that direction (a duplicate delivery), a withdrawal of a job that
 * already has a result.
 */
export function foldHistory(events: readonly RolloutEvent[], policy: FailurePolicy): History {
  const history: History = {
    hosts: new Map(),
    gates: new Map(),
    prometheus: new Map(),
    pauseReason: null,
    aborted: null,
    rollingBack: null,
    failedRollbacks: [],
  };
  const host = (id: string): HostRecord => {
    let record = history.hosts.get(id);
    if (record === undefined) {
      record = {
        inFlight: null,
        wave: null,
        startedForward: false,
        startedRollback: false,
        forwardOutcome: null,
        rollbackOutcome: null,
        recoveries: [],
      };
      history.hosts.set(id, record);
    }
    return record;
  };
  // Once rolling back or aborting, a failure changes nothing: there is nothing left to pause.
  const onFailure = (why: string): void => {
    if (history.rollingBack !== null || history.aborted !== null) return;
    if (policy === 'rollback-all') history.rollingBack = `${why}: rolling back every host done so far`;
    else if (policy === 'pause') history.pauseReason = `${why}: paused (resume, abort or roll back)`;
  };
  const finish = (id: string, direction: Direction, outcome: SwapOutcome, recoveries: readonly RecoverySample[]) => {
    const record = host(id);
    if (record.inFlight !== direction) return;
    record.inFlight = null;
    if (direction === 'forward') {
      record.forwardOutcome = outcome;
      record.recoveries = recoveries;
      if (FAILED_OUTCOMES.has(outcome)) onFailure(`host ${id} failed (${outcome})`);
      return;
    }
    record.rollbackOutcome = outcome;
    if (ROLLED_BACK_OUTCOMES.has(outcome)) return;
    history.failedRollbacks.push(id);
    // Rolling back everything: carry on with the others, the rollout ends failed. A single
    // host's rollback failing leaves it on an unknown version: a human must look.
    if (history.rollingBack === null && history.aborted === null) {
      history.pauseReason = `rollback of host ${id} failed (${outcome}): paused, the host needs a human`;
    }
  };

  for (const event of events) {
    switch (event.type) {
      case 'started':
        break;
      case 'enqueued': {
        const record = host(event.hostId);
        record.inFlight = event.direction;
        if (event.direction === 'forward') {
          record.startedForward = true;
          record.wave = event.wave;
        } else record.startedRollback = true;
        break;
      }
      case 'withdrawn': {
        const record = host(event.hostId);
        if (record.inFlight === 'forward') {
          record.startedForward = false;
          record.wave = null;
        } else if (record.inFlight === 'rollback') record.startedRollback = false;
        record.inFlight = null;
        break;
      }
      case 'result':
        finish(event.hostId, event.direction, event.outcome, event.recoveries);
        break;
      case 'expired': {
        const direction = history.hosts.get(event.hostId)?.inFlight;
        if (direction) finish(event.hostId, direction, 'expired', []);
        break;
      }
      case 'gate-evaluated':
        history.gates.set(event.wave, { verdict: event.verdict, detail: event.detail, at: event.at });
        if (event.verdict === 'fail') {
          const why = `wave ${event.wave} gate failed: ${event.detail}`;
          // A breach is about a wave, not one host: rollback-host has no host to roll back.
          if (policy === 'rollback-all') onFailure(why);
          else if (history.rollingBack === null && history.aborted === null) {
            history.pauseReason = `${why}: paused (resume, abort or roll back)`;
          }
        }
        break;
      case 'prometheus-gate':
        history.prometheus.set(event.wave, {
          status: event.status,
          detail: event.detail ?? '',
          at: event.at,
          overridden: false,
        });
        break;
      case 'paused':
        history.pauseReason = `paused by an operator${by(event)}`;
        break;
      case 'resumed':
        history.pauseReason = null;
        // Resuming a rollout held by its Prometheus gate is an operator's decision to go on.
        for (const gate of history.prometheus.values()) if (gate.status !== 'ok') gate.overridden = true;
        break;
      case 'aborted':
        history.aborted ??= `aborted by an operator${by(event)}`;
        break;
      case 'rollback-requested':
        history.rollingBack ??= `rollback requested by an operator${by(event)}`;
        // Rolling back is the way out of a pause (a failure's, typically): it is not paused itself.
        history.pauseReason = null;
        break;
    }
  }
  return history;
}
