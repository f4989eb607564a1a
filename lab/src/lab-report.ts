import type { AccelChoice } from './accel.js';
import { moduleAt, moduleSamples } from './check-result.js';
import type { CheckResult } from './checks.js';
import type { TargetFile } from './guest-image.js';
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
  /** The scenario's own modules (null: cached or none). */
  moduleBuildMs: number | null;
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

/** One watched module over one cycle, from lab-watch. */
export interface ModuleCycle {
  readonly name: string;
  readonly versionBefore: string | null;
  readonly versionAfter: string | null;
  /** Not loaded for this long during the cycle (unload -> load); null: stayed loaded. */
  readonly goneMs: number | null;
  readonly refcntAfter: number | null;
}

export interface CycleSummary {
  readonly cycle: number;
  readonly variant: number;
  readonly exit: number;
  readonly impl: 'agent' | 'shell' | 'none';
  readonly swapMs: number;
  readonly settledMs: number;
  /** Shell facts: unbind, zombie wait, unload, load, probe (ms); agent: its outcome. */
  readonly detail: string;
  readonly error: string | null;
  readonly modules: readonly ModuleCycle[];
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
  /** Per `swap.alternate` entry: the runbook's target file as modinfo reads it on the host. */
  readonly targets: readonly (TargetFile | null)[];
  readonly cycles: readonly CycleSummary[];
  readonly applications: Comparison['applications'];
  readonly comparison: Omit<Comparison, 'applications'>;
  readonly checks: readonly CheckResult[];
  readonly artifacts: { readonly runDir: string; readonly consoleLog: string; readonly resultsLog: string };
}

function shellDetail(cycle: LabRun['cycles'][number]): string {
  if (cycle.result.kind === 'agent') {
    const report = cycle.result.report;
    const steps = report.steps.map(
      (step) => `${step.phase} ${step.endedAt === null ? '…' : Math.round(step.endedAt - step.startedAt)}`,
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

function moduleCycle(run: LabRun, name: string, cycle: LabRun['cycles'][number]): ModuleCycle {
  const before = moduleAt(run, name, cycle.startAt);
  const after = moduleAt(run, name, cycle.settledAt);
  const during = moduleSamples(run, name, cycle.startAt, cycle.settledAt);
  const gone = during.findIndex((sample) => sample.state === 'absent');
  const back = gone < 0 ? undefined : during.slice(gone).find((sample) => sample.state !== 'absent');
  const version = (sample: typeof before): string | null =>
    sample && sample.state !== 'absent' ? sample.version || '(none)' : null;
  return {
    name,
    versionBefore: version(before),
    versionAfter: version(after),
    goneMs: gone < 0 ? null : round1((back?.at ?? cycle.settledAt) - (during[gone]?.at ?? 0)),
    refcntAfter: after && after.state !== 'absent' ? after.refcnt : null,
  };
}

export function summarizeCycles(run: LabRun, watched: readonly string[]): CycleSummary[] {
  return run.cycles.map((cycle) => ({
    cycle: cycle.cycle,
    variant: cycle.variant,
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
    modules: watched.map((name) => moduleCycle(run, name, cycle)),
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
