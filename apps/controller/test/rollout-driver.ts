import type { SwapDirection, SwapOutcome, SwapReport } from '@hotswap/contracts';
import { swapJobId } from '@hotswap/contracts';
import type { HostInfo, RolloutEvent } from '@hotswap/rollout';
import { reconcile, type Reconciled } from '../src/rollouts/rollout.reconcile.js';
import type { HostStep, RolloutRecord, RolloutSnapshot } from '../src/rollouts/rollout.record.js';
import {
  applyResult,
  commandEvent,
  newRolloutRecord,
  type OperatorCommand,
  type ResultOutcome,
} from '../src/rollouts/rollout.transitions.js';
import { toRolloutView, type RolloutView } from '../src/rollouts/rollout.view.js';
import { reportFor, runbookFor } from './fixtures.js';

/**
 * Plays the controller in memory, with the pure functions the real one uses: reconcile and
 * persist (here: keep), deliver results, apply commands, withdraw what an agent has not taken.
 */
export class RolloutDriver {
  record: RolloutRecord;
  events: RolloutEvent[];
  now = 1_000_000;
  hosts: HostInfo[];
  readonly reports = new Map<string, { forward?: SwapReport; rollback?: SwapReport }>();
  readonly steps = new Map<string, HostStep[]>();
  /** Jobs an agent took (cannot be withdrawn). */
  readonly taken = new Set<string>();

  constructor(
    hosts: readonly { id: string; rack: string }[],
    spec: Record<string, unknown> = {},
    readonly id = 'r-test',
  ) {
    this.hosts = hosts.map((host) => ({ id: host.id, labels: { rack: host.rack }, available: true }));
    const runbook = runbookFor(
      'driven',
      hosts.map((host) => host.id),
      spec,
    );
    this.record = newRolloutRecord(
      id,
      runbook,
      null,
      this.hosts.map((host) => ({ hostId: host.id, labels: host.labels })),
      this.now,
    );
    this.events = [{ type: 'started', at: this.now }];
  }

  get snapshot(): RolloutSnapshot {
    return { record: this.record, events: [...this.events], rev: this.events.length };
  }

  reconcile(): Reconciled {
    const result = reconcile(this.snapshot, this.hosts, this.now);
    if (result.changed) {
      this.record = result.record;
      this.events.push(...result.events);
    }
    // Withdraw what no agent took, as the reconciler does after persisting.
    for (const hostId of result.decision.withdraw) {
      if (this.taken.has(hostId)) continue;
      this.events.push({ type: 'withdrawn', at: this.now, hostId });
    }
    return result;
  }

  /** Runs reconcile until nothing changes (withdrawals recorded count as changes). */
  settle(): Reconciled {
    let result = this.reconcile();
    for (let i = 0; i < 10 && (result.changed || result.decision.withdraw.some((h) => !this.taken.has(h))); i++) {
      result = this.reconcile();
    }
    return result;
  }

  inFlight(): { hostId: string; direction: SwapDirection }[] {
    const flying = new Map<string, SwapDirection>();
    for (const event of this.events) {
      if (event.type === 'enqueued') flying.set(event.hostId, event.direction);
      if (event.type === 'withdrawn' || event.type === 'expired') flying.delete(event.hostId);
      if (event.type === 'result' && flying.get(event.hostId) === event.direction) flying.delete(event.hostId);
    }
    return [...flying].map(([hostId, direction]) => ({ hostId, direction }));
  }

  result(
    hostId: string,
    outcome: SwapOutcome,
    recoveries: Parameters<typeof reportFor>[3] = [],
    direction: SwapDirection = 'forward',
  ): ResultOutcome {
    const swapId = swapJobId(this.id, hostId, direction);
    const report = reportFor(hostId, swapId, outcome, recoveries);
    const outcomeOf = applyResult(this.snapshot, { hostId, swapId, direction, report }, this.now);
    if (outcomeOf.event) {
      this.events.push(outcomeOf.event);
      this.reports.set(hostId, { ...this.reports.get(hostId), [direction]: report });
      this.taken.delete(hostId);
    }
    return outcomeOf;
  }

  step(hostId: string, phase: string, direction: SwapDirection = 'forward'): void {
    this.taken.add(hostId);
    this.steps.set(hostId, [...(this.steps.get(hostId) ?? []), { phase, status: 'started', at: this.now, direction }]);
  }

  command(command: OperatorCommand): void {
    this.events.push(commandEvent(this.snapshot, command, this.now));
  }

  view(): RolloutView {
    return toRolloutView(this.snapshot, this.reports, this.steps);
  }
}
