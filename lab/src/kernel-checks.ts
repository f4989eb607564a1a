import { evidence, guestMonotonic, verdict, type CheckContext, type CheckResult } from './check-result.js';
import type { SwapCycle } from './lab-run.js';
import { round1 } from './stats.js';

/*
 * Checks against the kernel's facts, from the shell swap's output or the agent's report,
 * whichever the guest ran.
 */

export function holdersThenZombies(ctx: CheckContext, holders: number, minZombies: number): CheckResult {
  const name = `holders-then-zombies (${holders} holders, ≥ ${minZombies} zombies)`;
  const failures: string[] = [];
  const zombieCounts: number[] = [];
  for (const cycle of ctx.run.cycles) {
    const { shell, agent, missing } = evidence(cycle);
    if (missing) failures.push(`cycle ${cycle.cycle}: ${missing}`);
    const before = shell ? shell.holders.length : agent ? agent.holdersBefore.reduce((n, h) => n + h.fds, 0) : 0;
    const zombies = shell ? shell.zombies.length : (agent?.zombieFds ?? 0);
    zombieCounts.push(zombies);
    if (before !== holders || zombies < minZombies) {
      failures.push(`cycle ${cycle.cycle}: ${before} holder FDs before the unbind, ${zombies} zombies after`);
    }
  }
  const seen = zombieCounts.length > 0 ? `${Math.min(...zombieCounts)}–${Math.max(...zombieCounts)}` : 'no';
  return verdict(name, failures, `${holders} holder FDs before every unbind, ${seen} "(deleted)" zombies after`);
}

export function unloadRefused(ctx: CheckContext): CheckResult {
  const name = 'unload-refused-while-zombies';
  const failures: string[] = [];
  for (const cycle of ctx.run.cycles) {
    const { shell, agent, missing } = evidence(cycle);
    if (missing) failures.push(`cycle ${cycle.cycle}: ${missing}`);
    if (shell && shell.unloadRefused !== true) {
      failures.push(`cycle ${cycle.cycle}: unload not refused (refcnt ${shell.refcntAfterUnbind ?? '?'})`);
    }
    if (agent && !agent.steps.some((step) => step.phase === 'zombie-wait' && step.ok === true)) {
      failures.push(`cycle ${cycle.cycle}: the agent reports no zombie-wait step`);
    }
  }
  const shellRefcnt = ctx.run.cycles
    .map((cycle) => evidence(cycle).shell?.refcntAfterUnbind)
    .find((r) => r !== undefined);
  const ok =
    shellRefcnt === undefined
      ? 'the agent waited for the zombies every cycle'
      : `refused every cycle (refcnt ${shellRefcnt} after the unbind: the zombie FDs pin the module)`;
  return verdict(name, failures, ok);
}

/** Agent step times are wall-clock ms: brought onto the guest's monotonic clock by the apps' offset. */
function unloadStart(ctx: CheckContext, cycle: SwapCycle): number | null {
  const { shell, agent } = evidence(cycle);
  if (shell?.at) return shell.at.refcntZero;
  const step = agent?.steps.find((candidate) => candidate.phase === 'unload');
  return step ? guestMonotonic(ctx.run, step.startedAt) : null;
}

export function unloadAfterClose(ctx: CheckContext, withinMs: number): CheckResult {
  const name = `unload-after-last-close (${withinMs} ms)`;
  const failures: string[] = [];
  const delays: number[] = [];
  for (const cycle of ctx.run.cycles) {
    const closes = [...cycle.apps.values()].map((app) => app.closingAt);
    const start = unloadStart(ctx, cycle);
    if (closes.length === 0 || start === null) {
      failures.push(`cycle ${cycle.cycle}: no close or no unload time`);
      continue;
    }
    const delay = round1(start - Math.max(...closes));
    delays.push(delay);
    if (delay < -1 || delay > withinMs)
      failures.push(`cycle ${cycle.cycle}: unload began ${delay} ms after the last close() began`);
  }
  const range = delays.length > 0 ? `${Math.min(...delays)}–${Math.max(...delays)} ms` : 'n/a';
  return verdict(name, failures, `unload began ${range} after the last zombie's close() began`);
}
