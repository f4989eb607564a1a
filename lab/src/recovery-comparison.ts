import type { SwapReport } from '@hotswap/contracts';
import type { AppStart } from './guest-records.js';
import type { LabRun } from './lab-run.js';
import { round1, stats, type Stats } from './stats.js';

export interface AppCycleFigures {
  readonly cycle: number;
  readonly errno: string | null;
  /** The application's own recovery: first error -> successful reopen (its monotonic clock). */
  readonly appMs: number | null;
  /** The agent's recovery figure for this process in this cycle; null when no agent ran. */
  readonly agentMs: number | null;
  /** agentMs - appMs. */
  readonly diffMs: number | null;
  /**
   * diffMs = seenLagMs - unbindTailMs. The agent's clock starts when the unbind write returned
   * (DESIGN.md, "recovery time"), the application's at its first error: the driver revokes
   * during the write, so the error comes first by however long the kernel took to finish the
   * unbind (this figure; null when the unbind did not simply return, as when it blocked).
   */
  readonly unbindTailMs: number | null;
  /** How late the agent saw the reopen: agentMs minus the application's reopen measured from the unbind's return. */
  readonly seenLagMs: number | null;
  /** How long the application kept its zombie FD open: first error -> close. */
  readonly heldMs: number | null;
  /** The errnos its reopen attempts met, in order (ENOENT: no node yet, ENXIO: not ready). */
  readonly openErrors: readonly string[];
}

export interface ApplicationFigures {
  readonly name: string;
  readonly pid: number;
  readonly node: string;
  readonly holdMs: number;
  readonly cycles: readonly AppCycleFigures[];
  readonly appMs: Stats | null;
  /** Over |diffMs|. */
  readonly absDiffMs: Stats | null;
}

export interface Comparison {
  /** agent: the guest ran the agent, figures compared; shell: the shell swap ran, app figures only. */
  readonly basis: 'agent' | 'shell' | 'none';
  readonly note: string;
  readonly applications: readonly ApplicationFigures[];
  /** Over every application and cycle. */
  readonly absDiffMs: Stats | null;
  /** The two parts of the differences, over every application and cycle (see AppCycleFigures). */
  readonly unbindTailMs: Stats | null;
  readonly absSeenLagMs: Stats | null;
}

function agentFigure(report: SwapReport | null, pid: number): number | null {
  const recovery = report?.recoveries.find((entry) => entry.pid === pid);
  return recovery && recovery.seconds !== null ? round1(recovery.seconds * 1000) : null;
}

/**
 * When the unbind write returned, on the guest's CLOCK_MONOTONIC: the agent reports it on its
 * wall clock (Date.now(), to the millisecond), converted with the guest's own pair of readings
 * (an application's start: CLOCK_REALTIME and CLOCK_MONOTONIC read together).
 */
function unbindReturnedAt(report: SwapReport | null, app: AppStart): number | null {
  const unbind = report?.steps.find((step) => step.phase === 'unbind');
  if (!report || !unbind?.ok || unbind.endedAt === null || report.blockedUnbind) return null;
  return unbind.endedAt - (app.realtimeMs - app.monotonicMs);
}

function figuresOf(app: AppStart, run: LabRun): ApplicationFigures {
  const cycles = run.cycles.map((cycle): AppCycleFigures => {
    const own = cycle.apps.get(app.name);
    const report = cycle.result.kind === 'agent' ? cycle.result.report : null;
    const appMs = own ? round1(own.recoveryMs) : null;
    const agentMs = agentFigure(report, app.pid);
    const returnedAt = unbindReturnedAt(report, app);
    const split = own && agentMs !== null && returnedAt !== null;
    return {
      cycle: cycle.cycle,
      errno: own?.errno ?? null,
      appMs,
      agentMs,
      diffMs: appMs !== null && agentMs !== null ? round1(agentMs - appMs) : null,
      unbindTailMs: split ? round1(returnedAt - own.errorAt) : null,
      seenLagMs: split ? round1(agentMs - (own.reopenAt - returnedAt)) : null,
      heldMs: own ? round1(own.closedAt - own.errorAt) : null,
      openErrors: own?.openErrors ?? [],
    };
  });
  const present = (values: (number | null)[]): number[] => values.filter((value): value is number => value !== null);
  return {
    name: app.name,
    pid: app.pid,
    node: app.node,
    holdMs: app.holdMs,
    cycles,
    appMs: stats(present(cycles.map((cycle) => cycle.appMs))),
    absDiffMs: stats(present(cycles.map((cycle) => (cycle.diffMs === null ? null : Math.abs(cycle.diffMs))))),
  };
}

/** Each application's own figures, against the agent's when the guest ran the agent. */
export function compareRecoveries(run: LabRun): Comparison {
  const applications = run.apps.map((app) => figuresOf(app, run));
  const kinds = new Set(run.cycles.map((cycle) => cycle.result.kind));
  const basis = kinds.has('agent') ? 'agent' : kinds.has('shell') ? 'shell' : 'none';
  const every = (figure: (cycle: AppCycleFigures) => number | null): number[] =>
    applications.flatMap((app) => app.cycles.flatMap((cycle) => figure(cycle) ?? []));
  const abs = (value: number | null): number | null => (value === null ? null : Math.abs(value));
  const note =
    basis === 'agent'
      ? 'agent recovery figures (unbind returned -> new node held) against each application’s own (first error -> reopen)'
      : basis === 'shell'
        ? 'the guest ran the shell swap (test/kernel/guest/lab-swap-shell): application figures only, NO agent figures'
        : 'no swap result to compare with';
  return {
    basis,
    note,
    applications,
    absDiffMs: stats(every((cycle) => abs(cycle.diffMs))),
    unbindTailMs: stats(every((cycle) => cycle.unbindTailMs)),
    absSeenLagMs: stats(every((cycle) => abs(cycle.seenLagMs))),
  };
}
