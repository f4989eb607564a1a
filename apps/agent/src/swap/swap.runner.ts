import type { RecoveryObservation, SwapPhase, SwapReport } from '@hotswap/contracts';
import { KernelActionError, type ActionReturned, type KernelPort } from '@hotswap/kernel';
import {
  isTerminal,
  next,
  resume,
  start,
  type KernelAction,
  type RecoveryWatchSpec,
  type SwapEffect,
  type SwapEvent,
  type SwapStart,
  type SwapState,
} from '@hotswap/swap';
import type { HookExecutor } from '../hooks/pty-hook.executor.js';
import type { HostFacts } from '../kernel/host-facts.js';
import { ActionDeadline } from './action-deadline.js';
import { awaitModulesFree } from './await-modules-free.js';
import { inspectHost } from './host.inspection.js';
import { RecoveryWatch } from './recovery.watch.js';

/** Where the runner writes every state before acting on it (see FileSwapJournal). */
export interface SwapStateSink {
  write(state: SwapState): Promise<void>;
}

/** Who hears about progress: the queue reporter, metrics, the one-host mode's output. */
export interface SwapObserver {
  step?(phase: SwapPhase, status: 'started' | 'completed' | 'failed' | 'blocked', detail?: string): void;
  recovery?(observation: RecoveryObservation): void;
  zombies?(count: number): void;
  hookOutput?(stage: 'pre' | 'post', hook: string, text: string): void;
}

export interface SwapRunnerOptions {
  readonly observer?: SwapObserver;
  readonly now?: () => number;
  /** Runs runbook hooks; without it a hook fails ("this agent runs no hooks"). */
  readonly hooks?: HookExecutor | null;
  /** Host-level refusals and the kernel's record of the swap (Linux); none on a simulated host. */
  readonly facts?: HostFacts | null;
}

/**
 * Performs the swap machine's effects against the kernel port and feeds the results back as
 * events, one at a time. Every kernel action runs with a deadline: past it, the machine is told
 * the action is stuck, and the action's promise is kept (never awaited) so that its eventual
 * completion is still reported. Nothing here blocks the event loop.
 */
export class SwapRunner {
  private state!: SwapState;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly loops = new Set<{ stopped: boolean }>();
  private readonly liveActions = new Set<number>();
  private finish!: (report: SwapReport) => void;
  private fail!: (error: unknown) => void;

  private readonly observer: SwapObserver;
  private readonly now: () => number;
  private readonly hooks: HookExecutor | null;
  private readonly facts: HostFacts | null;
  private mark: Promise<unknown> | null = null;
  private recovery: RecoveryWatch | null = null;

  constructor(
    private readonly port: KernelPort,
    private readonly journal: SwapStateSink,
    options: SwapRunnerOptions = {},
  ) {
    this.observer = options.observer ?? {};
    this.now = options.now ?? Date.now;
    this.hooks = options.hooks ?? null;
    this.facts = options.facts ?? null;
  }

  /** Run a new swap, or resume one from its journaled state. Resolves with the final report. */
  run(from: SwapStart | SwapState): Promise<SwapReport> {
    const done = new Promise<SwapReport>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    // The kernel log is read from here on; a swap resumed after a crash reads from its resumption.
    this.mark = this.facts ? this.facts.mark().catch(() => null) : null;
    this.enqueue(async () => {
      if ('ctx' in from) {
        this.state = from;
        await this.perform(resume(from));
      } else {
        const t = start(from);
        this.state = t.state;
        await this.journal.write(t.state);
        await this.perform(t.effects);
      }
    });
    return done;
  }

  /** Feed one event: the transition is journaled before any of its effects start. */
  private dispatch(event: SwapEvent): void {
    this.enqueue(async () => {
      if (this.stopped) return;
      const t = next(this.state, event);
      if (t.state === this.state && t.effects.length === 0) return;
      this.state = t.state;
      await this.journal.write(t.state);
      await this.perform(t.effects);
    });
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((error: unknown) => {
      this.stop();
      this.fail(error);
    });
  }

  private async perform(effects: readonly SwapEffect[]): Promise<void> {
    for (const effect of effects) this.performOne(effect);
    if (isTerminal(this.state)) this.stop();
  }

  private stop(): void {
    this.stopped = true;
    this.recovery?.stop();
    for (const loop of this.loops) loop.stopped = true;
  }

  private performOne(effect: SwapEffect): void {
    switch (effect.kind) {
      case 'progress':
        this.observer.step?.(effect.phase, effect.status, effect.detail);
        return;
      case 'finished':
        void this.withKernelEvidence(effect.report).then((report) => this.finish(report));
        return;
      case 'inspect':
        this.query(async () => ({
          kind: 'inspected',
          at: this.now(),
          ...(await inspectHost(this.port, this.facts, effect)),
        }));
        return;
      case 'census':
        this.query(async () => {
          const holders = await this.port.census(effect.rdevs);
          if (effect.purpose === 'zombies') this.observer.zombies?.(holders.reduce((n, h) => n + h.files.length, 0));
          return { kind: 'census-taken', at: this.now(), purpose: effect.purpose, holders };
        });
        return;
      case 'action':
        this.startAction(effect.id, effect.action, effect.deadlineMs);
        return;
      case 'await-modules-free':
        this.query(async () => {
          const result = await awaitModulesFree(
            this.port,
            effect.modules,
            effect.deadlineMs,
            effect.pollMs,
            this.now,
            this.loop(),
          );
          if (result.kind === 'modules-free' && effect.zombieNodes.length > 0) {
            // Only the report's prediction check uses this count: a census that fails must not
            // turn a free stack into a failed query (and a restore).
            const zombiesOpen = await this.zombiesOpen(effect.zombieNodes, effect.zombiePids).catch(() => undefined);
            return { ...result, at: this.now(), ...(zombiesOpen === undefined ? {} : { zombiesOpen }) };
          }
          return { ...result, at: this.now() };
        });
        return;
      case 'read-state':
        this.query(async () => ({
          kind: 'state-read',
          at: this.now(),
          modules: await Promise.all(effect.modules.map((m) => this.port.module(m))),
          devices: await Promise.all(effect.devices.map((d) => this.port.device(d))),
          ...(effect.dependencies
            ? { dependencies: await Promise.all(effect.dependencies.map((m) => this.port.module(m))) }
            : {}),
        }));
        return;
      case 'start-recovery-watch':
        this.recoveryWatch(effect);
        return;
      case 'watch-recovery':
        this.query(async () => {
          const report = await this.recoveryWatch(effect).finish(effect.deadlineMs);
          return { kind: 'recovery-ended', at: this.now(), report };
        });
        return;
      case 'watch-blocking':
        void this.watchBlocking(effect.actionId, effect.rdevs, effect.pollMs);
        return;
      case 'run-hook':
        this.runHook(effect);
        return;
      case 'timer':
        setTimeout(() => this.dispatch({ kind: 'timer-fired', at: this.now(), name: effect.name }), effect.ms).unref();
        return;
    }
  }

  private runHook(effect: Extract<SwapEffect, { kind: 'run-hook' }>): void {
    const { stage, index, hook } = effect;
    const finished = (ok: boolean, detail: string): void =>
      this.dispatch({ kind: 'hook-finished', at: this.now(), stage, index, ok, detail });
    if (!this.hooks) return finished(false, 'this agent runs no hooks');
    const output = (text: string): void => this.observer.hookOutput?.(stage, hook.name, text);
    this.hooks.run(hook, stage, this.state.ctx.swapId, output).then(
      (outcome) => finished(outcome.ok, outcome.detail),
      (error: unknown) => finished(false, messageOf(error)),
    );
  }

  /** The report, with what the kernel logged and its taint flags when the host can tell. */
  private async withKernelEvidence(report: SwapReport): Promise<SwapReport> {
    const mark = this.facts && this.mark ? await this.mark : null;
    if (!this.facts || mark === null) return report;
    try {
      return { ...report, kernel: await this.facts.evidence(mark) };
    } catch {
      return report;
    }
  }

  /** Run a read-only query; its failure becomes a `query-failed` event. */
  private query(read: () => Promise<SwapEvent>): void {
    read().then(
      (event) => this.dispatch(event),
      (error: unknown) => this.dispatch({ kind: 'query-failed', at: this.now(), error: messageOf(error) }),
    );
  }

  private startAction(id: number, action: KernelAction, deadlineMs: number): void {
    this.liveActions.add(id);
    const deadline = new ActionDeadline(deadlineMs, () => {
      if (this.liveActions.has(id)) this.dispatch({ kind: 'action-stuck', at: this.now(), id });
    });
    // An unbind's child says when it is about to write: its deadline counts from there.
    this.act(action, () => deadline.begun()).then(
      (returned) => {
        deadline.clear();
        this.liveActions.delete(id);
        // An unbind's child stamps its own return: hearing of its exit comes later (DESIGN.md).
        this.dispatch({ kind: 'action-done', at: returned?.returnedAt ?? this.now(), id });
      },
      (error: unknown) => {
        deadline.clear();
        this.liveActions.delete(id);
        this.dispatch({ kind: 'action-failed', at: this.now(), id, error: messageOf(error) });
      },
    );
  }

  /**
   * Kernel actions, made idempotent so that a runner resumed from its journal can perform its
   * state's action again: an unbound device is not unbound twice, a bound one not bound twice,
   * modules already gone are not unloaded again, a loaded one is not loaded again.
   */
  private async act(action: KernelAction, writing: () => void): Promise<ActionReturned | void> {
    switch (action.kind) {
      case 'unbind': {
        const device = await this.port.device(action.device);
        if (device && device.driver === null) return;
        // The recovery watch starts once the unbind returns: its thread starts meanwhile.
        this.port.prepareFilesWatch?.();
        return this.port.unbind(action.device, writing);
      }
      case 'bind': {
        const device = await this.port.device(action.device);
        if (device?.driver === action.driver) return;
        return this.port.bind(action.device, action.driver);
      }
      case 'unload': {
        const loaded = await Promise.all(action.modules.map((m) => this.port.module(m)));
        const present = action.modules.filter((_, i) => loaded[i] !== null);
        if (present.length === 0) return;
        return this.port.unload(present);
      }
      case 'load':
        // A restore loads back every module the unload removed; one that stayed loaded is left be.
        if (await this.port.module(action.spec.module)) return;
        return this.port.load(action.spec);
      case 'signal':
        return this.port.signal(action.pid, action.signal);
    }
  }

  /** Files and mappings of `pids` still open on the old nodes (the same number and inode): zombies. */
  private async zombiesOpen(nodes: readonly { rdev: string; ino: number }[], pids: readonly number[]): Promise<number> {
    const old = new Set(nodes.map((n) => `${n.rdev}/${n.ino}`));
    const holders = await this.port.watch({ pids, units: [] }, [...new Set(nodes.map((n) => n.rdev))]);
    return holders.reduce(
      (n, h) => n + [...h.files, ...h.mappings].filter((f) => old.has(`${f.rdev}/${f.ino}`)).length,
      0,
    );
  }

  /** The background recovery watch, started once (early, or at the recovery-watch phase). */
  private recoveryWatch(spec: RecoveryWatchSpec): RecoveryWatch {
    this.recovery ??= new RecoveryWatch(this.port, spec, this.now, (o) => this.observer.recovery?.(o));
    return this.recovery;
  }

  /** While an unbind is stuck, keep telling the machine who still holds the device. */
  private async watchBlocking(actionId: number, rdevs: readonly string[], pollMs: number): Promise<void> {
    const loop = this.loop();
    while (!loop.stopped && this.liveActions.has(actionId)) {
      try {
        const holders = await this.port.census(rdevs);
        this.dispatch({ kind: 'census-taken', at: this.now(), purpose: 'blocking', holders });
      } catch {
        // A failed poll is retried at the next interval; the stuck action is what matters.
      }
      await sleep(pollMs);
    }
    this.loops.delete(loop);
  }

  private loop(): { stopped: boolean } {
    const loop = { stopped: this.stopped };
    this.loops.add(loop);
    return loop;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function messageOf(error: unknown): string {
  if (error instanceof KernelActionError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
