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
}

function agentFigure(report: SwapReport | null, pid: number): number | null {
  const recovery = report?.recoveries.find((entry) => entry.pid === pid);
  return recovery && recovery.seconds !== null ? round1(recovery.seconds * 1000) : null;
}

function figuresOf(app: AppStart, run: LabRun): ApplicationFigures {
  const cycles = run.cycles.map((cycle): AppCycleFigures => {
    const own = cycle.apps.get(app.name);
    const report = cycle.result.kind === 'agent' ? cycle.result.report : null;
    const appMs = own ? round1(own.recoveryMs) : null;
    const agentMs = agentFigure(report, app.pid);
    return {
      cycle: cycle.cycle,
      errno: own?.errno ?? null,
      appMs,
      agentMs,
      diffMs: appMs !== null && agentMs !== null ? round1(agentMs - appMs) : null,
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
  const diffs = applications.flatMap((app) =>
    app.cycles.flatMap((cycle) => (cycle.diffMs === null ? [] : [Math.abs(cycle.diffMs)])),
  );
  const note =
    basis === 'agent'
      ? 'agent recovery figures (unbind returned -> new node held) against each application’s own (first error -> reopen)'
      : basis === 'shell'
        ? 'the guest ran the shell swap (test/kernel/guest/lab-swap-shell): application figures only, NO agent figures'
        : 'no swap result to compare with';
  return { basis, note, applications, absDiffMs: stats(diffs) };
}
