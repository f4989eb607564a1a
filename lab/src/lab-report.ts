import type { AccelChoice } from './accel.js';
import type { CheckResult } from './checks.js';
import type { KernelTree } from './kernel-cache.js';
import type { LabRun } from './lab-run.js';
import type { Comparison } from './recovery-comparison.js';
import { round1 } from './stats.js';

/** Where the time went, in milliseconds; null: did not happen in this run (cached, skipped). */
export interface LabTimings {
  packagesMs: number | null;
  kernelDownloadMs: number | null;
  kernelUnpackMs: number | null;
  depmodMs: number | null;
  refappBuildMs: number | null;
  agentBundleMs: number | null;
  initramfsStageMs: number | null;
  initramfsPackMs: number | null;
  initramfsBytes: number | null;
  accelProbeMs: number | null;
  /** QEMU started -> the guest's init reported (host clock). */
  bootToInitMs: number | null;
  modulesLoadMs: number | null;
  agentSmokeMs: number | null;
  /** Per cycle: swap command start -> every application reopened (guest clock). */
  cyclesMs: number[];
  /** Per cycle: the swap command alone. */
  swapCommandMs: number[];
  qemuWallMs: number | null;
  totalMs: number;
}

export interface CycleSummary {
  readonly cycle: number;
  readonly exit: number;
  readonly impl: 'agent' | 'shell' | 'none';
  readonly swapMs: number;
  readonly settledMs: number;
  /** Shell facts: unbind, zombie wait, unload, load, probe (ms); agent: its outcome. */
  readonly detail: string;
  readonly error: string | null;
}

/** One JSON object (`--json`); the text report renders the same data. */
export interface LabReport {
  readonly scenario: string;
  readonly file: string;
  readonly ok: boolean;
  readonly infraError: string | null;
  readonly kernel: Pick<KernelTree, 'pkg' | 'version' | 'release'> | null;
  readonly accel: AccelChoice | null;
  readonly swapCommand: string;
  readonly swapImpl: Comparison['basis'];
  readonly agentSmoke: { exit: number; ms: number } | null;
  readonly timings: LabTimings;
  readonly cycles: readonly CycleSummary[];
  readonly applications: Comparison['applications'];
  readonly comparison: {
    readonly basis: Comparison['basis'];
    readonly note: string;
    readonly absDiffMs: Comparison['absDiffMs'];
  };
  readonly checks: readonly CheckResult[];
  readonly artifacts: { readonly runDir: string; readonly consoleLog: string; readonly resultsLog: string };
}

function shellDetail(cycle: LabRun['cycles'][number]): string {
  if (cycle.result.kind === 'agent') {
    const report = cycle.result.report;
    const steps = report.steps.map(
      (step) => `${step.phase} ${step.endedAt === null ? '…' : step.endedAt - step.startedAt}`,
    );
    return `agent ${report.outcome}: ${steps.join(', ')} ms`;
  }
  if (cycle.result.kind !== 'shell' || !cycle.result.facts.at) return '';
  const at = cycle.result.facts.at;
  const d = (from: number, to: number): number => Math.round(to - from);
  return [
    `unbind ${d(at.start, at.unbound)}`,
    `zombie wait ${d(at.unbound, at.refcntZero)}`,
    `unload ${d(at.refcntZero, at.unloaded)}`,
    `load ${d(at.unloaded, at.loaded)}`,
    `probe ${d(at.loaded, at.probed)} ms`,
  ].join(', ');
}

export function summarizeCycles(run: LabRun): CycleSummary[] {
  return run.cycles.map((cycle) => ({
    cycle: cycle.cycle,
    exit: cycle.exit,
    impl: cycle.result.kind,
    swapMs: Math.round(cycle.endAt - cycle.startAt),
    settledMs: Math.round(cycle.settledAt - cycle.startAt),
    detail: shellDetail(cycle),
    error:
      cycle.result.kind === 'none'
        ? cycle.result.error
        : cycle.result.kind === 'shell'
          ? (cycle.result.facts.error ?? null)
          : cycle.result.report.error,
  }));
}

export function guestTimings(
  run: LabRun,
): Pick<LabTimings, 'bootToInitMs' | 'modulesLoadMs' | 'agentSmokeMs' | 'cyclesMs' | 'swapCommandMs'> {
  return {
    bootToInitMs: run.initHostMs,
    modulesLoadMs: run.modulesLoaded ? round1(run.modulesLoaded.endAt - run.modulesLoaded.startAt) : null,
    agentSmokeMs: run.agentSmoke ? Math.round(run.agentSmoke.endAt - run.agentSmoke.startAt) : null,
    cyclesMs: run.cycles.map((cycle) => Math.round(cycle.settledAt - cycle.startAt)),
    swapCommandMs: run.cycles.map((cycle) => Math.round(cycle.endAt - cycle.startAt)),
  };
}
