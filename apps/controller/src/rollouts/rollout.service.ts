import { Inject, Injectable } from '@nestjs/common';
import { parseRunbook, requireHosts, validateRunbook, type Runbook } from '@hotswap/runbook';
import { LOGGER } from '../controller.tokens.js';
import { HostsNotRegisteredError, RolloutNotFoundError } from '../errors/controller.errors.js';
import { HostRegistryStore } from '../hosts/host-registry.store.js';
import type { Logger } from '../logging/controller.logger.js';
import { ControllerMetrics } from '../metrics/controller.metrics.js';
import { ROLLOUT_ID_PATTERN, newRolloutId } from './rollout-id.js';
import type { RolloutRecord } from './rollout.record.js';
import { RolloutStore, type RolloutUpdate } from './rollout.store.js';
import {
  advance,
  applyResult,
  applyStep,
  createRollout,
  type EventOutcome,
  type ResultInput,
  type StepInput,
} from './rollout.transitions.js';
import { toRolloutListItem, toRolloutView, type RolloutListItem, type RolloutView } from './rollout.view.js';
import { SwapJobQueues } from './swap-job.queues.js';

/** A runbook as the API received it: raw YAML/JSON text, or a body Express already parsed. */
export type RunbookInput = { readonly text: string } | { readonly value: unknown };

/**
 * Orchestrates rollouts: the decisions are the pure transitions (and nextSequentialStep); this
 * class reads and writes the store, hands jobs to the queues and counts what happened.
 */
@Injectable()
export class RolloutService {
  constructor(
    @Inject(RolloutStore) private readonly store: RolloutStore,
    @Inject(HostRegistryStore) private readonly registry: HostRegistryStore,
    @Inject(SwapJobQueues) private readonly queues: SwapJobQueues,
    @Inject(ControllerMetrics) private readonly metrics: ControllerMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Validates, checks every host is registered, stores the rollout, and starts its first host. */
  async create(input: RunbookInput): Promise<RolloutView> {
    const runbook: Runbook = 'text' in input ? parseRunbook(input.text) : validateRunbook(input.value);
    const hostIds = requireHosts(runbook);
    const missing = await this.registry.unregistered(hostIds);
    if (missing.length > 0) throw new HostsNotRegisteredError(missing);

    const now = Date.now();
    // Persisted with its first host already `queued`, before the job exists: a crash in
    // between leaves a record that says what to enqueue, never a job nobody tracks.
    const record = advance(createRollout(newRolloutId(), runbook, hostIds, now), now);
    await this.store.create(record);
    this.metrics.rolloutsCreated.inc();
    this.logger.info({ rolloutId: record.id, name: record.name, hosts: hostIds.length }, 'rollout created');
    await this.enqueueQueuedHosts(record, null);
    return toRolloutView(record);
  }

  async get(id: string): Promise<RolloutView> {
    const record = ROLLOUT_ID_PATTERN.test(id) ? await this.store.get(id) : null;
    if (!record) throw new RolloutNotFoundError(id);
    return toRolloutView(record);
  }

  async list(limit: number): Promise<RolloutListItem[]> {
    return (await this.store.list(limit)).map(toRolloutListItem);
  }

  recordStep(rolloutId: string, event: StepInput): Promise<EventOutcome> {
    return this.applyEvent(rolloutId, (record) => applyStep(record, event, Date.now()));
  }

  /** Records a host's result and moves the rollout on: the next host's job, or its end. */
  async recordResult(rolloutId: string, event: ResultInput): Promise<EventOutcome> {
    return this.applyEvent(
      rolloutId,
      (record) => applyResult(record, event, Date.now()),
      () => {
        const outcome = event.report.outcome;
        this.metrics.hostResults.inc({ outcome });
        this.logger.info({ rolloutId, hostId: event.hostId, swapId: event.swapId, outcome }, 'host result recorded');
      },
    );
  }

  private async applyEvent(
    rolloutId: string,
    transition: (record: RolloutRecord) => EventOutcome,
    onApplied?: (update: RolloutUpdate) => void,
  ): Promise<EventOutcome> {
    let outcome: EventOutcome = { record: null, disposition: 'ignored' };
    const update = await this.store.update(rolloutId, (record) => {
      outcome = transition(record);
      return outcome.record;
    });
    if (update.changed) {
      onApplied?.(update);
      this.countFinish(update);
    }
    // Also after a duplicate: it repairs a crash between writing `queued` and enqueueing.
    await this.enqueueQueuedHosts(update.record, update.previous);
    return outcome;
  }

  private countFinish({ previous, record }: RolloutUpdate): void {
    if (previous.state !== 'running' || record.state === 'running') return;
    this.metrics.rolloutsFinished.inc({ outcome: record.state });
    const counts: Record<string, number> = {};
    for (const host of record.hosts) counts[host.state] = (counts[host.state] ?? 0) + 1;
    this.logger.info({ rolloutId: record.id, state: record.state, hosts: counts }, 'rollout finished');
  }

  /** Enqueueing is idempotent (deterministic job ids); only newly queued hosts are counted. */
  private async enqueueQueuedHosts(record: RolloutRecord, previous: RolloutRecord | null): Promise<void> {
    if (record.state !== 'running') return;
    const now = Date.now();
    for (const host of record.hosts.filter((h) => h.state === 'queued')) {
      await this.queues.enqueueForward(record, host.hostId, now);
      const wasQueued = previous?.hosts.some((h) => h.hostId === host.hostId && h.state === 'queued') ?? false;
      if (!wasQueued) this.metrics.swapJobsEnqueued.inc();
    }
  }
}
