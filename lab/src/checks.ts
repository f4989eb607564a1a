import { agentMatchesApps, appChecks } from './app-checks.js';
import { fail, pass, verdict, type CheckContext, type CheckResult } from './check-result.js';
import { holdersThenZombies, unloadAfterClose, unloadRefused } from './kernel-checks.js';
import {
  modulePinned,
  oldDriverRebound,
  srcversionMatches,
  unloadWhileZombies,
  versionMatches,
} from './module-checks.js';
import { dryRunPredictions } from './prediction-checks.js';
import { appsRestartEveryCycle, holdersSignalled, swapsFail, unbindBlocked } from './wait-checks.js';
import type { Check } from './scenario-checks.schema.js';

export type { CheckContext, CheckResult, CheckStatus } from './check-result.js';

/** The guest ran every cycle and powered off cleanly: implied by every scenario. */
export function completionCheck(ctx: CheckContext): CheckResult {
  const { run, cyclesWanted } = ctx;
  const name = 'guest-completed';
  if (run.fatal) return fail(name, `guest init failed: ${run.fatal}`);
  if (!run.init) return fail(name, 'the guest never reported from init');
  if (run.cycles.length < cyclesWanted) return fail(name, `${run.cycles.length} of ${cyclesWanted} cycles ran`);
  if (!run.done) return fail(name, 'the guest did not finish (no "done" record)');
  if (run.agentSmoke && run.agentSmoke.exit !== 0) {
    return fail(name, `the bundled agent does not start in the guest (exit ${run.agentSmoke.exit})`);
  }
  return pass(name, `${cyclesWanted} cycles, clean poweroff`);
}

function scenarioCheck(ctx: CheckContext, check: Check): CheckResult {
  const byApps = appChecks(ctx, check);
  if (byApps) return byApps;
  switch (check.check) {
    case 'swaps-succeed': {
      const failures = ctx.run.cycles
        .filter((cycle) => cycle.exit !== 0)
        .map((cycle) => `cycle ${cycle.cycle} exited ${cycle.exit}`);
      return verdict(check.check, failures, `${ctx.run.cycles.length} swaps exited 0`);
    }
    case 'holders-then-zombies':
      return holdersThenZombies(ctx, check.holders, check.minZombies ?? check.holders);
    case 'unload-refused-while-zombies':
      return unloadRefused(ctx);
    case 'unload-after-last-close':
      return unloadAfterClose(ctx, check.withinMs);
    case 'srcversion-matches-target':
      return srcversionMatches(ctx);
    case 'version-matches-target':
      return versionMatches(ctx);
    case 'unload-while-zombies':
      return unloadWhileZombies(ctx);
    case 'module-pinned':
      return modulePinned(ctx, check.module.replaceAll('-', '_'));
    case 'old-driver-rebound':
      return oldDriverRebound(ctx);
    case 'unbind-blocked':
      return unbindBlocked(ctx, check.holders, check.writeMarker, check.withinMs);
    case 'holders-signalled':
      return holdersSignalled(ctx, check.killed);
    case 'apps-restart-every-cycle':
      return appsRestartEveryCycle(ctx);
    case 'dry-run-predictions':
      return dryRunPredictions(ctx);
    case 'swaps-fail':
      return swapsFail(ctx, check.outcome);
    case 'agent-matches-apps':
      return agentMatchesApps(ctx, check.medianWithinMs, check.maxWithinMs);
    default:
      return fail(check.check, 'unknown check');
  }
}

/** The implied completion check, then the scenario's own, in its order. No cycle: nothing passes. */
export function evaluateChecks(ctx: CheckContext, checks: readonly Check[]): CheckResult[] {
  const own =
    ctx.run.cycles.length === 0
      ? checks.map((check) => fail(check.check, 'no swap cycle ran'))
      : checks.map((check) => scenarioCheck(ctx, check));
  return [completionCheck(ctx), ...own];
}
