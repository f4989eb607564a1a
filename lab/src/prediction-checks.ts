import type { DryRunPlan, SwapPrediction } from '@hotswap/contracts';
import { evidence, fail, moduleSamples, skip, verdict, type CheckContext, type CheckResult } from './check-result.js';
import type { SwapCycle } from './lab-run.js';

/*
 * The agent's dry run (`swap --dry-run --json`, run in the guest just before the first cycle
 * of each runbook variant) against what the lab saw happen in that cycle. What happened comes
 * from the lab's own witnesses wherever it can: the applications' errnos (refapp) and the
 * modules' sysfs state (lab-watch); only whether the unbind blocked comes from the agent's
 * report, which measured it against its deadline.
 */

/** What the cycle showed for one prediction; null: the cycle could not tell. */
function observed(ctx: CheckContext, cycle: SwapCycle, prediction: SwapPrediction): string | null {
  switch (prediction.kind) {
    case 'unbind': {
      const { agent } = evidence(cycle);
      if (!agent) return null;
      return agent.blockedUnbind ? 'blocks' : 'returns';
    }
    case 'unload': {
      // free: the module went while an application still held its zombie; waits: only after
      // the last one closed. A cycle without a zombie held for more than a moment cannot tell.
      const gone = moduleSamples(ctx.run, ctx.swappedModule, cycle.startAt, cycle.settledAt).find(
        (sample) => sample.state === 'absent',
      );
      // Open means before its close() began (closingAt): the close may end before closedAt is read.
      const held = [...cycle.apps.values()].filter((app) => app.closingAt - app.errorAt > 1);
      if (!gone || held.length === 0) return null;
      return held.some((app) => app.errorAt <= gone.at && gone.at < app.closingAt) ? 'free' : 'waits';
    }
    case 'errno': {
      // refapp's first error on its zombie; "NODE-GONE" is not an errno (the wait scheme).
      const errnos = [...cycle.apps.values()].map((app) => app.errno).filter((errno) => /^E[A-Z0-9]+$/.test(errno));
      return errnos[0] ?? null;
    }
  }
}

export function dryRunPredictions(ctx: CheckContext): CheckResult {
  const name = 'dry-run-predictions';
  const ran = ctx.run.cycles.filter((cycle) => cycle.dryRun !== null);
  if (ran.length === 0) {
    return ctx.run.cycles.some((cycle) => evidence(cycle).agent)
      ? fail(name, 'no dry run reached the host')
      : skip(name, 'the guest ran the shell swap: there is no agent dry run to check');
  }
  const failures: string[] = [];
  const lines: string[] = [];
  for (const cycle of ran) {
    const plan = cycle.dryRun as DryRunPlan | string;
    if (typeof plan === 'string') {
      failures.push(`cycle ${cycle.cycle}: ${plan}`);
      continue;
    }
    if (plan.verdict !== 'would-swap') failures.push(`cycle ${cycle.cycle}: dry run says ${plan.verdict}`);
    for (const prediction of plan.predictions) {
      const seen = observed(ctx, cycle, prediction);
      const label = `${prediction.kind} ${prediction.expected ?? 'unknown'} [${prediction.source}]`;
      if (prediction.expected === null || seen === null) {
        lines.push(`${label}: ${seen === null ? 'not observable' : `saw ${seen}`}`);
      } else if (seen === prediction.expected) {
        lines.push(`${label}: held`);
      } else {
        failures.push(`cycle ${cycle.cycle}: ${prediction.statement} — saw ${seen}`);
      }
    }
  }
  const summary = [...new Set(lines)].join('; ');
  return verdict(name, failures, `${ran.length} dry runs: ${summary || 'no predictions'}`);
}
