import { swapJobId, type SwapJob, type SwapReport } from '@hotswap/contracts';
import type { KernelPort, LoadSpec } from '@hotswap/kernel';
import { RunbookValidationError, validateRunbook } from '@hotswap/runbook';
import { isTerminal, planFromRunbook, reloadSpecOf, reportOf } from '@hotswap/swap';
import type { FileSwapJournal } from '../journal/file-swap.journal.js';
import type { HookExecutor } from '../hooks/pty-hook.executor.js';
import type { HostFacts } from '../kernel/host-facts.js';
import type { HostLock } from '../lock/host.lock.js';
import { reportWithoutSwap } from './outcome-report.js';
import { SwapRunner, type SwapObserver } from './swap.runner.js';

/**
 * Runs one swap job on this host, framework-free so the daemon (BullMQ) and the one-host
 * `swap` command share it. A job delivered twice runs once: the journal, keyed by the swap id,
 * answers a finished swap with its report and resumes an unfinished one.
 */
export class SwapJobHandler {
  constructor(
    private readonly hostId: string,
    private readonly port: KernelPort,
    private readonly journal: FileSwapJournal,
    private readonly lock: HostLock,
    private readonly hooks: HookExecutor | null = null,
    private readonly facts: HostFacts | null = null,
    private readonly now: () => number = Date.now,
  ) {}

  async handle(swapId: string, job: SwapJob, observer: SwapObserver): Promise<SwapReport> {
    const journaled = await this.journal.read(swapId);
    if (journaled?.state && isTerminal(journaled.state)) return reportOf(journaled.state);
    if (!journaled && this.now() > job.notAfter) {
      const late = Math.round((this.now() - job.notAfter) / 1000);
      return reportWithoutSwap(
        swapId,
        this.hostId,
        'expired',
        `job expired ${late} s ago (notAfter ${new Date(job.notAfter).toISOString()}); not run`,
        this.now(),
      );
    }
    let plan;
    try {
      plan = planFromRunbook(validateRunbook(job.runbook));
    } catch (error) {
      if (!(error instanceof RunbookValidationError)) throw error;
      return reportWithoutSwap(swapId, this.hostId, 'refused', error.message, this.now());
    }
    if (job.direction === 'rollback') {
      const previous = await this.previousStack(job);
      if (!previous) {
        const why = `nothing to roll back: rollout ${job.rolloutId} has no finished forward swap on this host`;
        return reportWithoutSwap(swapId, this.hostId, 'skipped', why, this.now());
      }
      plan = { ...plan, loads: previous };
    }
    await this.lock.acquire();
    try {
      const runner = new SwapRunner(this.port, this.journal.sink(swapId), {
        observer,
        now: this.now,
        hooks: this.hooks,
        facts: this.facts,
      });
      if (journaled?.state) return await runner.run(journaled.state);
      await this.journal.begin(swapId, job);
      return await runner.run({ swapId, hostId: this.hostId, plan, at: this.now() });
    } finally {
      await this.lock.release();
    }
  }

  /**
   * A rollback swaps back to exactly what the forward swap found loaded: the same files and
   * parameters, bottom of the stack first, as its journal recorded them.
   */
  private async previousStack(job: SwapJob): Promise<LoadSpec[] | null> {
    const forward = await this.journal.read(swapJobId(job.rolloutId, this.hostId, 'forward'));
    if (!forward?.state || !isTerminal(forward.state) || forward.state.ctx.previous.length === 0) return null;
    return [...forward.state.ctx.previous].reverse().map(reloadSpecOf);
  }

  /** Swaps a previous agent left unfinished (it crashed): finish or roll them back first. */
  async unfinished(): Promise<{ swapId: string; job: SwapJob }[]> {
    return (await this.journal.unfinished()).map(({ swapId, job }) => ({ swapId, job }));
  }
}
