import { Inject, Injectable } from '@nestjs/common';
import type { SwapDirection } from '@hotswap/contracts';
import {
  foldHistory,
  isTerminalRolloutState,
  prometheusGateStatus,
  type HostInfo,
  type RolloutEvent,
} from '@hotswap/rollout';
import { LOGGER } from '../controller.tokens.js';
import { PrometheusClient } from '../gates/prometheus.client.js';
import { HostRegistryStore } from '../hosts/host-registry.store.js';
import { stackOnTarget } from '../hosts/stack-target.match.js';
import { KeyedMutex } from '../lifecycle/keyed-mutex.js';
import type { Logger } from '../logging/controller.logger.js';
import { ControllerMetrics } from '../metrics/controller.metrics.js';
import { ControllerQueue } from '../scheduling/controller.queue.js';
import { HostClaimsStore } from './host-claims.store.js';
import { reconcile, type Reconciled } from './rollout.reconcile.js';
import type { RolloutRecord, RolloutSnapshot } from './rollout.record.js';
import { RolloutStore, type ReportWrite, type RolloutUpdate } from './rollout.store.js';
import { SwapJobQueues } from './swap-job.queues.js';

/** Passes of decide → persist → act in one call; each pass after the first follows a recorded act. */
const MAX_PASSES = 5;

/** What woke a reconcile, for the logs. */
export type ReconcileTrigger = 'created' | 'result' | 'command' | 'wake' | 'sweep';

/**
 * Moves a rollout on. One pass: load the rollout and the hosts' availability, run the pure
 * `reconcile`, persist its events and decision with one compare-and-set (retried from the
 * fresh state on a conflict), and only then act: add the swap jobs of the persisted starts,
 * withdraw jobs no agent took yet (recording `withdrawn` for those actually removed), run the
 * Prometheus gate's query (recording `prometheus-gate`), and schedule the next wake-up as a
 * delayed job. A recorded act changes the log, so another pass follows.
 *
 * Any replica may reconcile any rollout at any time: the compare-and-set lets one write win,
 * and the loser decides again from what it wrote (where the hosts it wanted to start are in
 * flight already), so no host is started twice; job ids are deterministic, so adding a job
 * twice is a no-op. Within a process, calls for one rollout queue up (KeyedMutex).
 */
@Injectable()
export class RolloutReconciler {
  private readonly mutex = new KeyedMutex();

  constructor(
    @Inject(RolloutStore) private readonly store: RolloutStore,
    @Inject(HostRegistryStore) private readonly registry: HostRegistryStore,
    @Inject(SwapJobQueues) private readonly queues: SwapJobQueues,
    @Inject(HostClaimsStore) private readonly claims: HostClaimsStore,
    @Inject(PrometheusClient) private readonly prometheus: PrometheusClient,
    @Inject(ControllerQueue) private readonly timers: ControllerQueue,
    @Inject(ControllerMetrics) private readonly metrics: ControllerMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Moves the rollout on as far as it goes now; returns what is stored afterwards. */
  reconcile(id: string, trigger: ReconcileTrigger): Promise<RolloutSnapshot> {
    return this.mutex.run(id, async () => {
      let snapshot: RolloutSnapshot | null = null;
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        const { after, acted } = await this.pass(id, trigger);
        snapshot = after;
        if (!acted) break;
      }
      return snapshot as RolloutSnapshot;
    });
  }

  /**
   * Appends events (an operator's command, an agent's result) with a compare-and-set, then
   * reconciles. `change` is pure and may decline (null) or throw to refuse.
   */
  async append<T>(
    id: string,
    trigger: ReconcileTrigger,
    change: (snapshot: RolloutSnapshot) => {
      events: readonly RolloutEvent[];
      reports?: readonly ReportWrite[];
      result: T;
    },
  ): Promise<{ update: RolloutUpdate<T>; snapshot: RolloutSnapshot }> {
    const update = await this.mutex.run(id, () =>
      this.store.update(id, (snapshot) => {
        const { events, reports, result } = change(snapshot);
        const record = { ...snapshot.record, updatedAt: Date.now() };
        return { change: events.length === 0 ? null : { record, events, ...(reports ? { reports } : {}) }, result };
      }),
    );
    // After a no-op too: the event may be the redelivery of one whose reconcile never ran.
    if (isTerminalRolloutState(update.after.record.state)) return { update, snapshot: update.after };
    return { update, snapshot: await this.reconcile(id, trigger) };
  }

  /**
   * The sweep, on one replica per tick: every unfinished rollout is repaired (a job lost to a
   * crash between persisting `enqueued` and adding it is added again; a job still waiting past
   * its `notAfter` is removed and recorded `expired`) and reconciled (hosts came back, a wake-up
   * was lost). One rollout failing does not stop the others.
   */
  async sweep(): Promise<void> {
    for (const id of await this.store.runningIds()) {
      try {
        await this.mutex.run(id, () => this.repair(id));
        await this.reconcile(id, 'sweep');
      } catch (error) {
        this.logger.warn({ rolloutId: id, error: (error as Error).message }, 'sweep could not move a rollout on');
      }
    }
  }

  private async pass(id: string, trigger: ReconcileTrigger): Promise<{ after: RolloutSnapshot; acted: boolean }> {
    const current = await this.store.loadRecord(id);
    if (current === null) throw new Error(`rollout ${id} vanished`);
    if (isTerminalRolloutState(current.state)) {
      const after = await this.store.load(id);
      return { after: after as RolloutSnapshot, acted: false };
    }
    const now = Date.now();
    const hosts = await this.hostInfos(current, now);
    const update = await this.store.update(id, (snapshot) => {
      const result = reconcile(snapshot, hosts, now);
      return { change: result.changed ? { record: result.record, events: result.events } : null, result };
    });
    const result: Reconciled = update.result;
    const { record } = update.after;
    if (update.changed) this.recorded(update.before.record, result, trigger);

    // The events are persisted: act on them.
    for (const start of result.starts) {
      await this.queues.enqueue(record, start.hostId, start.direction, now);
      this.metrics.swapJobsEnqueued.inc({ direction: start.direction });
    }
    let acted = false;
    if (result.decision.withdraw.length > 0)
      acted = (await this.withdraw(update.after, result.decision.withdraw)) || acted;
    if (result.decision.queryPrometheus !== null) {
      acted = (await this.queryPrometheus(update.after, result.decision.queryPrometheus.wave)) || acted;
    }
    if (result.decision.nextWakeAt !== null && !acted) {
      await this.timers.scheduleWake(id, result.decision.nextWakeAt, Date.now());
    }
    if (update.changed && isTerminalRolloutState(record.state) && !isTerminalRolloutState(update.before.record.state)) {
      await this.claims.release(
        id,
        record.hosts.map((host) => host.hostId),
      );
    }
    return { after: update.after, acted };
  }

  /** Counts and logs what a successful write recorded. */
  private recorded(before: RolloutRecord, result: Reconciled, trigger: ReconcileTrigger): void {
    const { record, decision } = result;
    for (const event of result.events) {
      if (event.type === 'gate-evaluated') {
        this.metrics.gateResults.inc({ gate: 'slo', result: event.verdict });
        this.logger.info(
          { rolloutId: record.id, wave: event.wave, verdict: event.verdict, detail: event.detail },
          'wave gate evaluated',
        );
      }
    }
    if (result.starts.length > 0) {
      const hosts = result.starts.map(
        (start) => `${start.hostId}${start.direction === 'rollback' ? ' (rollback)' : ''}`,
      );
      this.logger.info({ rolloutId: record.id, trigger, hosts, state: decision.state }, 'hosts started');
    }
    if (before.state !== record.state) {
      this.logger.info(
        { rolloutId: record.id, from: before.state, state: record.state, reason: decision.reason, trigger },
        'rollout state changed',
      );
      if (isTerminalRolloutState(record.state)) this.metrics.rolloutsFinished.inc({ outcome: record.state });
    }
  }

  /** Removes the jobs no agent took; records `withdrawn` for those, if still in flight. */
  private async withdraw(snapshot: RolloutSnapshot, hostIds: readonly string[]): Promise<boolean> {
    const history = foldHistory(snapshot.events, snapshot.record.runbook.spec.failurePolicy);
    const removed: { hostId: string; direction: SwapDirection }[] = [];
    for (const hostId of hostIds) {
      const direction = history.hosts.get(hostId)?.inFlight;
      if (!direction) continue;
      // A job that is missing was never added (a crash after persisting `enqueued`): the sweep
      // adds it again, and it is withdrawn then. It cannot have run: finished jobs stay a day.
      if ((await this.queues.withdraw(snapshot.record.id, hostId, direction)) === 'removed') {
        removed.push({ hostId, direction });
      }
    }
    if (removed.length === 0) return false;
    await this.store.update(snapshot.record.id, (current) => {
      const now = Date.now();
      const flying = foldHistory(current.events, current.record.runbook.spec.failurePolicy).hosts;
      const events: RolloutEvent[] = removed
        .filter(({ hostId, direction }) => flying.get(hostId)?.inFlight === direction)
        .map(({ hostId }) => ({ type: 'withdrawn', at: now, hostId }));
      return {
        change: events.length === 0 ? null : { record: { ...current.record, updatedAt: now }, events },
        result: null,
      };
    });
    return true;
  }

  private async queryPrometheus(snapshot: RolloutSnapshot, wave: number): Promise<boolean> {
    const gate = snapshot.record.runbook.spec.prometheusGate;
    if (gate === undefined) return false;
    const { status, detail } = prometheusGateStatus(await this.prometheus.query(gate.query, Date.now()), gate);
    await this.store.update(snapshot.record.id, (current) => {
      const now = Date.now();
      const event: RolloutEvent = { type: 'prometheus-gate', at: now, wave, status, detail };
      return { change: { record: { ...current.record, updatedAt: now }, events: [event] }, result: null };
    });
    this.metrics.gateResults.inc({ gate: 'prometheus', result: status });
    this.logger.info({ rolloutId: snapshot.record.id, wave, status, detail }, 'prometheus gate evaluated');
    return true;
  }

  /** Adds back jobs lost to a crash, expires jobs no agent took in time. */
  private async repair(id: string): Promise<void> {
    const snapshot = await this.store.load(id);
    if (snapshot === null || isTerminalRolloutState(snapshot.record.state)) return;
    const { record, events } = snapshot;
    const history = foldHistory(events, record.runbook.spec.failurePolicy);
    const now = Date.now();
    const expired: { hostId: string; direction: SwapDirection }[] = [];
    for (const [hostId, host] of history.hosts) {
      const direction = host.inFlight;
      if (direction === null) continue;
      if (await this.queues.expire(id, hostId, direction, now)) {
        expired.push({ hostId, direction });
        continue;
      }
      if (await this.queues.exists(id, hostId, direction)) continue;
      const enqueued = events.findLast(
        (e) => e.type === 'enqueued' && e.hostId === hostId && e.direction === direction,
      );
      await this.queues.enqueue(record, hostId, direction, enqueued?.at ?? now);
      this.logger.warn({ rolloutId: id, hostId, direction }, 'swap job was missing: added again');
    }
    if (expired.length === 0) return;
    await this.store.update(id, (current) => {
      const flying = foldHistory(current.events, current.record.runbook.spec.failurePolicy).hosts;
      const at = Date.now();
      const events: RolloutEvent[] = expired
        .filter(({ hostId, direction }) => flying.get(hostId)?.inFlight === direction)
        .map(({ hostId }) => ({ type: 'expired', at, hostId }));
      return {
        change: events.length === 0 ? null : { record: { ...current.record, updatedAt: at }, events },
        result: null,
      };
    });
    this.logger.warn(
      { rolloutId: id, hosts: expired.map((e) => e.hostId) },
      'swap jobs expired before any agent took them',
    );
  }

  /**
   * The hosts as the registry sees them now: heartbeat fresh or not, and whether the module
   * versions of the last heartbeat already match the target (the scheduler then skips the host
   * rather than starting a swap its agent would report `skipped`).
   */
  private async hostInfos(record: RolloutRecord, now: number): Promise<HostInfo[]> {
    const ids = record.hosts.map((host) => host.hostId);
    const [available, versions] = await Promise.all([
      this.registry.availability(ids, now),
      this.registry.moduleVersions(ids),
    ]);
    return record.hosts.map((host) => ({
      id: host.hostId,
      labels: host.labels,
      available: available.get(host.hostId) ?? false,
      onTarget: stackOnTarget(record.runbook.spec.modules, versions.get(host.hostId) ?? []) === true,
    }));
  }
}
