import type { SwapReport } from '@hotswap/contracts';
import type { ModuleSample } from './guest-records.js';
import type { TargetFile } from './guest-image.js';
import type { LabRun, SwapCycle } from './lab-run.js';
import type { Comparison } from './recovery-comparison.js';
import type { ShellFacts } from './swap-result.js';

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface CheckContext {
  readonly run: LabRun;
  readonly comparison: Comparison;
  readonly cyclesWanted: number;
  /** Per `swap.alternate` entry: the runbook's target file, read on the host; null for a version target. */
  readonly targets: readonly (TargetFile | null)[];
  /** The module the runbook swaps first (canonical name), as lab-watch names it. */
  readonly swappedModule: string;
  readonly unbindDeadlineMs: number;
  /** Policy signal: SIGTERM, then SIGKILL this long after (0 under other policies). */
  readonly graceMs: number;
  /** Applications that come back as a new instance (`recovers: restart`). */
  readonly restartingApps: readonly string[];
}

export const pass = (check: string, detail: string): CheckResult => ({ check, status: 'pass', detail });
export const fail = (check: string, detail: string): CheckResult => ({ check, status: 'fail', detail });
export const skip = (check: string, detail: string): CheckResult => ({ check, status: 'skipped', detail });
export const verdict = (check: string, failures: readonly string[], ok: string): CheckResult =>
  failures.length === 0 ? pass(check, ok) : fail(check, failures.slice(0, 5).join('; '));

/** Per cycle: the shell's facts, the agent's report, or why there is neither. */
export function evidence(cycle: SwapCycle): { shell?: ShellFacts; agent?: SwapReport; missing?: string } {
  if (cycle.result.kind === 'shell') return { shell: cycle.result.facts };
  if (cycle.result.kind === 'agent') return { agent: cycle.result.report };
  return { missing: cycle.result.error };
}

/**
 * A wall-clock time from the agent's report on the guest's monotonic clock (the one the
 * applications and lab-watch use), by the offset refapp recorded with both clocks at once.
 */
export function guestMonotonic(run: LabRun, wallMs: number): number | null {
  const app = run.apps[0];
  return app ? wallMs - (app.realtimeMs - app.monotonicMs) : null;
}

/** lab-watch's state of `module` at `at` (its last sample at or before then). */
export function moduleAt(run: LabRun, module: string, at: number): ModuleSample | null {
  let found: ModuleSample | null = null;
  for (const sample of run.modules) if (sample.name === module && sample.at <= at) found = sample;
  return found;
}

/** lab-watch's samples of `module` within (from, to]. */
export function moduleSamples(run: LabRun, module: string, from: number, to: number): ModuleSample[] {
  return run.modules.filter((sample) => sample.name === module && sample.at > from && sample.at <= to);
}
