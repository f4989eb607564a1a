import { Inject, Injectable } from '@nestjs/common';
import { SWAP_QUEUE, type ModuleVersion, type SwapDirection } from '@hotswap/contracts';
import {
  conflictingRollout,
  decide,
  HostConflictError,
  isTerminalRolloutState,
  rolloutSpecOf,
  type RolloutEvent,
  type RolloutSpec,
  type Wave,
} from '@hotswap/rollout';
import { censusRequestOf, parseRunbook, validateRunbook, type Runbook } from '@hotswap/runbook';
import { LOGGER } from '../controller.tokens.js';
import {
  RolloutHostConflictError,
  RolloutNotFoundError,
  RunbookNotFoundError,
  RunbookRevisionMismatchError,
} from '../errors/controller.errors.js';
import { HostCensusClient, type CensusAnswer } from '../hosts/host-census.client.js';
import { HostRegistryStore } from '../hosts/host-registry.store.js';
import { stackOnTarget } from '../hosts/stack-target.match.js';
import { WatchedModulesStore } from '../hosts/watched-modules.store.js';
import type { Logger } from '../logging/controller.logger.js';
import { ControllerMetrics } from '../metrics/controller.metrics.js';
import { RunbookStore } from '../runbooks/runbook.store.js';
import { HostClaimsStore, type OwnerCheck } from './host-claims.store.js';
import { resolveHostSet } from './host-set.resolver.js';
import { ROLLOUT_ID_PATTERN, newRolloutId } from './rollout-id.js';
import type { HostStep, RolloutHost, RolloutRecord, RolloutSnapshot } from './rollout.record.js';
import { RolloutReconciler } from './rollout.reconciler.js';
import { RolloutStore } from './rollout.store.js';
import { SwapJobQueues } from './swap-job.queues.js';
import {
  applyResult,
  commandEvent,
  newRolloutRecord,
  type EventDisposition,
  type OperatorCommand,
  type ResultInput,
} from './rollout.transitions.js';
import { toRolloutListItem, toRolloutView, type RolloutListItem, type RolloutView } from './rollout.view.js';

/**
 * Where a rollout's runbook comes from: raw YAML/JSON text, a body Express already parsed, or
 * the name (and optionally the revision) of a stored runbook.
 */
export type RunbookInput =
  { readonly text: string } | { readonly value: unknown } | { readonly stored: string; readonly revision?: number };

export interface StepInput {
  readonly hostId: string;
  readonly swapId: string;
  readonly direction: SwapDirection;
  readonly at: number;
  readonly phase: string;
  readonly status: string;
  readonly detail?: string | undefined;
}

/** What POST /v1/rollouts?dryRun=true answers: the plan, nothing created. */
export interface RolloutPlan {
  readonly dryRun: true;
  readonly name: string;
  readonly runbook: RolloutRecord['runbookRef'];
  readonly hosts: readonly PlannedHost[];
  readonly rollout: RolloutSpec;
  readonly waves: readonly Omit<Wave, 'gate'>[];
  readonly skipped: readonly string[];
  /** What the scheduler would say right now (e.g. waiting for a maintenance window). */
  readonly state: string;
  readonly reason: string;
}

/**
 * One host of a dry run: the registry's view (availability, module versions of the last
 * heartbeat), the live census of the host (devices, module stack, holders, resolved targets) or
 * why there is none, and whether the stack already runs the target (null: cannot tell).
 */
export interface PlannedHost extends RolloutHost {
  readonly available: boolean;
  readonly modules: readonly ModuleVersion[];
  readonly onTarget: boolean | null;
  readonly census: CensusAnswer;
}

/**
 * The rollout API's use cases. Decisions are pure (libs/rollout's `decide`, rollout.reconcile.ts,
 * rollout.transitions.ts); RolloutReconciler persists them and acts; this class validates input,
 * resolves hosts, guards against conflicting rollouts and turns events and commands into log
 * entries.
 */
@Injectable()
export class RolloutService {
  constructor(
    @Inject(RolloutStore) private readonly store: RolloutStore,
    @Inject(RunbookStore) private readonly runbooks: RunbookStore,
    @Inject(HostRegistryStore) private readonly registry: HostRegistryStore,
    @Inject(HostClaimsStore) private readonly claims: HostClaimsStore,
    @Inject(RolloutReconciler) private readonly reconciler: RolloutReconciler,
    @Inject(HostCensusClient) private readonly census: HostCensusClient,
    @Inject(WatchedModulesStore) private readonly watched: WatchedModulesStore,
    @Inject(SwapJobQueues) private readonly queues: SwapJobQueues,
    @Inject(ControllerMetrics) private readonly metrics: ControllerMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Validates, resolves the hosts, claims them (409 when another unfinished rollout has one),
   * stores the rollout and reconciles it once: the canary's job is on its queue on return.
   */
  async create(input: RunbookInput): Promise<RolloutView> {
    const { runbook, runbookRef } = await this.runbookOf(input);
    const now = Date.now();
    const hosts = resolveHostSet(runbook, await this.registry.list(now));
    await this.watched.add(runbook);
    const id = newRolloutId();
    const hostIds = hosts.map((host) => host.hostId);
    const claim = await this.claims.claim(id, hostIds, this.ownerCheck, now);
    if (!claim.ok) throw await this.conflict(claim.owner, hostIds);
    try {
      await this.store.create(newRolloutRecord(id, runbook, runbookRef, hosts, now), [{ type: 'started', at: now }]);
    } catch (error) {
      await this.claims.release(id, hostIds);
      throw error;
    }
    this.metrics.rolloutsCreated.inc();
    this.logger.info(
      { rolloutId: id, name: runbook.metadata.name, hosts: hostIds.length, runbookRef },
      'rollout created',
    );
    return this.view(await this.reconciler.reconcile(id, 'created'));
  }

  /**
   * The plan `create` would start from, nothing written: the hosts' availability now, a live
   * census of every host at once (answered within the census deadline, or marked so), and the
   * hosts already on the target skipped, judged from the census where it answered and from the
   * last heartbeat's module versions elsewhere.
   */
  async plan(input: RunbookInput): Promise<RolloutPlan> {
    const { runbook, runbookRef } = await this.runbookOf(input);
    const now = Date.now();
    const registered = await this.registry.list(now);
    const hosts = resolveHostSet(runbook, registered);
    const hostIds = hosts.map((host) => host.hostId);
    const owners = await this.claims.owners(hostIds, this.ownerCheck, now);
    const [owner] = owners.values();
    if (owner !== undefined) throw await this.conflict(owner, hostIds);
    await this.watched.add(runbook);
    const byId = new Map(registered.map((host) => [host.hostId, host]));
    const request = censusRequestOf(runbook);
    const answers = await Promise.all(hostIds.map((hostId) => this.census.ask(hostId, request)));
    const planned = hosts.map((host, i): PlannedHost => {
      const census = answers[i] as CensusAnswer;
      const modules = byId.get(host.hostId)?.modules ?? [];
      const onTarget =
        census.status === 'answered'
          ? stackOnTarget(runbook.spec.modules, census.census.modules, census.census.targets)
          : stackOnTarget(runbook.spec.modules, modules);
      return { ...host, available: byId.get(host.hostId)?.available ?? false, modules, onTarget, census };
    });
    const rollout = rolloutSpecOf(runbook);
    const decision = decide({
      rollout,
      hosts: planned.map((host) => ({
        id: host.hostId,
        labels: host.labels,
        available: host.available,
        onTarget: host.onTarget === true,
      })),
      events: [{ type: 'started', at: Date.now() }],
      now: Date.now(),
    });
    return {
      dryRun: true,
      name: runbook.metadata.name,
      runbook: runbookRef,
      hosts: planned,
      rollout,
      waves: decision.waves.map(({ index, kind, hosts: members }) => ({
        index,
        kind,
        hosts: members,
        status: 'planned',
      })),
      skipped: decision.skipped,
      state: decision.state,
      reason: decision.reason,
    };
  }

  async get(id: string): Promise<RolloutView> {
    return this.view(await this.load(id));
  }

  async events(id: string): Promise<{ id: string; state: string; events: readonly RolloutEvent[] }> {
    const { record, events } = await this.load(id);
    return { id, state: record.state, events };
  }

  async list(limit: number): Promise<RolloutListItem[]> {
    return (await this.store.list(limit)).map(toRolloutListItem);
  }

  /** pause | resume | abort | rollback: appends the operator's event (409 if it does not apply), reconciles. */
  async command(id: string, command: OperatorCommand, by?: string): Promise<RolloutView> {
    await this.load(id);
    const { snapshot } = await this.reconciler.append(id, 'command', (current) => ({
      events: [commandEvent(current, command, Date.now(), by)],
      result: null,
    }));
    this.logger.info({ rolloutId: id, command, by, state: snapshot.record.state }, 'operator command applied');
    return this.view(snapshot);
  }

  /** A step goes to the host's step list only; the scheduler does not decide on steps. */
  async recordStep(rolloutId: string, event: StepInput): Promise<{ disposition: EventDisposition; reason?: string }> {
    const record = await this.store.loadRecord(rolloutId);
    if (!record) throw new RolloutNotFoundError(rolloutId);
    if (!record.hosts.some((host) => host.hostId === event.hostId)) {
      return {
        disposition: 'rejected',
        reason: `host ${JSON.stringify(event.hostId)} is not part of rollout ${rolloutId}`,
      };
    }
    const step: HostStep = {
      phase: event.phase,
      status: event.status,
      at: event.at,
      direction: event.direction,
      ...(event.detail === undefined ? {} : { detail: event.detail }),
    };
    const added = await this.store.addStep(rolloutId, event.hostId, step);
    return { disposition: added ? 'applied' : 'duplicate' };
  }

  /** Records a host's result (once per swap id) with its report, then moves the rollout on. */
  async recordResult(
    rolloutId: string,
    input: ResultInput,
  ): Promise<{ disposition: EventDisposition; reason?: string }> {
    const { update } = await this.reconciler.append(rolloutId, 'result', (snapshot) => {
      const outcome = applyResult(snapshot, input, Date.now());
      return {
        events: outcome.event ? [outcome.event] : [],
        reports: outcome.event ? [{ hostId: input.hostId, direction: input.direction, report: input.report }] : [],
        result: outcome,
      };
    });
    const { disposition, reason } = update.result;
    if (disposition === 'applied') {
      this.metrics.hostResults.inc({ direction: input.direction, outcome: input.report.outcome });
      await this.observePickup(rolloutId, input.hostId, input.direction);
      this.logger.info(
        {
          rolloutId,
          hostId: input.hostId,
          swapId: input.swapId,
          direction: input.direction,
          outcome: input.report.outcome,
        },
        'host result recorded',
      );
    }
    return reason === undefined ? { disposition } : { disposition, reason };
  }

  /** Once per recorded result: how long the swap job waited for its agent (BullMQ timestamps). */
  private async observePickup(rolloutId: string, hostId: string, direction: SwapDirection): Promise<void> {
    try {
      const seconds = await this.queues.pickupSeconds(rolloutId, hostId, direction);
      if (seconds !== null) this.metrics.jobPickupSeconds.observe({ queue: SWAP_QUEUE }, seconds);
    } catch (error) {
      this.logger.debug({ rolloutId, hostId, error: (error as Error).message }, 'swap job pickup time not read');
    }
  }

  private async runbookOf(input: RunbookInput): Promise<{ runbook: Runbook; runbookRef: RolloutRecord['runbookRef'] }> {
    if ('text' in input) return { runbook: parseRunbook(input.text), runbookRef: null };
    if ('value' in input) return { runbook: validateRunbook(input.value), runbookRef: null };
    const stored = await this.runbooks.get(input.stored);
    if (!stored) throw new RunbookNotFoundError(input.stored);
    if (input.revision !== undefined && input.revision !== stored.revision) {
      throw new RunbookRevisionMismatchError(stored.name, input.revision, stored.revision);
    }
    return { runbook: stored.runbook, runbookRef: { name: stored.name, revision: stored.revision } };
  }

  private async load(id: string): Promise<RolloutSnapshot> {
    const snapshot = ROLLOUT_ID_PATTERN.test(id) ? await this.store.load(id) : null;
    if (!snapshot) throw new RolloutNotFoundError(id);
    return snapshot;
  }

  private async view(snapshot: RolloutSnapshot): Promise<RolloutView> {
    const id = snapshot.record.id;
    const [reports, steps] = await Promise.all([
      this.store.reports(id),
      this.store.steps(
        id,
        snapshot.record.hosts.map((host) => host.hostId),
      ),
    ]);
    return toRolloutView(snapshot, reports, steps);
  }

  /** Is the claim's rollout unfinished? null when it is not stored (yet). */
  private readonly ownerCheck: OwnerCheck = async (rolloutId) => {
    const record = ROLLOUT_ID_PATTERN.test(rolloutId) ? await this.store.loadRecord(rolloutId) : null;
    return record === null ? null : !isTerminalRolloutState(record.state);
  };

  /** The 409 for a host owned by another rollout, listing every host the two share. */
  private async conflict(owner: string, hostIds: readonly string[]): Promise<RolloutHostConflictError> {
    const record = await this.store.loadRecord(owner);
    const found = conflictingRollout(hostIds, [
      { id: owner, hosts: record?.hosts.map((host) => host.hostId) ?? [], state: record?.state ?? 'running' },
    ]);
    const conflict = found ?? { rolloutId: owner, state: record?.state ?? 'running', hostIds: [] };
    const error = new HostConflictError(conflict);
    return new RolloutHostConflictError(error.message, conflict.rolloutId, conflict.state, conflict.hostIds);
  }
}
