import type { SwapReport } from '@hotswap/contracts';
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
  /** srcversion of the runbook's target file, read on the host; '' if it has none; null for a version target. */
  readonly targetSrcversion: string | null;
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
