import { fail, pass, skip, verdict, type CheckContext, type CheckResult } from './check-result.js';
import type { Check } from './scenario-checks.schema.js';

/* Checks against the applications' own reports, and the agent's figures against them. */

export function agentMatchesApps(ctx: CheckContext, medianWithinMs: number, maxWithinMs: number): CheckResult {
  const name = `agent-matches-apps (median ≤ ${medianWithinMs} ms, max ≤ ${maxWithinMs} ms)`;
  const { comparison } = ctx;
  if (comparison.basis !== 'agent') return skip(name, comparison.note);
  const diffs = comparison.absDiffMs;
  const expected = comparison.applications.reduce((n, app) => n + app.cycles.length, 0);
  if (!diffs || diffs.n < expected) {
    return fail(name, `${diffs?.n ?? 0} of ${expected} application cycles have both figures`);
  }
  const { unbindTailMs: tail, absSeenLagMs: lag } = comparison;
  const parts =
    tail && lag
      ? ` (= seen late − unbind tail: |seen late| median ${lag.median} ms, max ${lag.max} ms; first error → unbind returned median ${tail.median} ms, ${tail.min}–${tail.max} ms)`
      : '';
  const detail = `|agent − app| median ${diffs.median} ms, max ${diffs.max} ms over ${diffs.n} figures${parts}`;
  return diffs.median <= medianWithinMs && diffs.max <= maxWithinMs ? pass(name, detail) : fail(name, detail);
}

export function appChecks(ctx: CheckContext, check: Check): CheckResult | null {
  const apps = ctx.comparison.applications;
  switch (check.check) {
    case 'apps-recover-every-cycle': {
      const failures = apps.flatMap((app) =>
        app.cycles
          .filter((cycle) => cycle.appMs === null)
          .map((cycle) => `${app.name}: no reopen in cycle ${cycle.cycle}`),
      );
      return verdict(check.check, failures, `${apps.length} applications reopened in every cycle`);
    }
    case 'app-errno': {
      const failures = apps.flatMap((app) =>
        app.cycles
          .filter((cycle) => cycle.errno !== check.errno)
          .map((cycle) => `${app.name} cycle ${cycle.cycle}: ${cycle.errno ?? 'no error'}`),
      );
      return verdict(`app-errno (${check.errno})`, failures, `every application's first error was ${check.errno}`);
    }
    case 'app-recovery': {
      const app = apps.find((candidate) => candidate.name === check.app);
      const name = `app-recovery (${check.app}: ${check.atLeastMs ?? 0}–${check.atMostMs ?? '∞'} ms)`;
      if (!app?.appMs) return fail(name, `no figures from ${check.app}`);
      const failures = app.cycles
        .filter(
          (cycle) =>
            cycle.appMs === null ||
            cycle.appMs < (check.atLeastMs ?? 0) ||
            cycle.appMs > (check.atMostMs ?? Number.POSITIVE_INFINITY),
        )
        .map((cycle) => `cycle ${cycle.cycle}: ${cycle.appMs ?? 'none'} ms`);
      return verdict(name, failures, `${app.appMs.min}–${app.appMs.max} ms, median ${app.appMs.median} ms`);
    }
    default:
      return null;
  }
}
