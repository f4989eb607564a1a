import type { SwapReport } from '@hotswap/contracts';
import { evidence, guestMonotonic, verdict, type CheckContext, type CheckResult } from './check-result.js';
import type { AppStart } from './guest-records.js';
import type { LabRun, SwapCycle } from './lab-run.js';
import { round1 } from './stats.js';

/*
 * Checks for the wait scheme (an unbind that blocks while files are open) and for swaps that
 * are meant to fail, from the agent's report against the applications' own records.
 */

/** The application instances alive when the cycle began: each one's latest start before it. */
function instancesAt(run: LabRun, at: number): AppStart[] {
  const latest = new Map<string, AppStart>();
  for (const start of run.appStarts) if (start.openedAt <= at) latest.set(start.name, start);
  return [...latest.values()];
}

function agentOf(cycle: SwapCycle, failures: string[]): SwapReport | null {
  const { agent, missing } = evidence(cycle);
  if (!agent)
    failures.push(`cycle ${cycle.cycle}: ${missing ?? 'the shell swap ran: it cannot report a blocked unbind'}`);
  return agent ?? null;
}

const span = (values: readonly number[], unit = ' ms'): string =>
  values.length > 0 ? `${Math.min(...values)}–${Math.max(...values)}${unit}` : 'n/a';

/** When `marker` vanished during the cycle (the unbind write reached the driver). */
function markerGoneAt(run: LabRun, marker: string, cycle: SwapCycle): number | null {
  const gone = run.paths.find(
    (sample) => sample.path === marker && !sample.exists && sample.at > cycle.startAt && sample.at <= cycle.settledAt,
  );
  return gone?.at ?? null;
}

export function unbindBlocked(
  ctx: CheckContext,
  holders: number,
  writeMarker: string | undefined,
  withinMs: number,
): CheckResult {
  const from = writeMarker ? `${writeMarker} vanished` : "the agent's unbind step began";
  const name = `unbind-blocked (${holders} holders, at ${ctx.unbindDeadlineMs} ms + ≤ ${withinMs} ms after ${from})`;
  const failures: string[] = [];
  const reportedAfter: number[] = [];
  const blockedFor: number[] = [];
  for (const cycle of ctx.run.cycles) {
    const agent = agentOf(cycle, failures);
    const blocked = agent?.blockedUnbind;
    const unbind = agent?.steps.find((step) => step.phase === 'unbind');
    if (!agent) continue;
    if (!blocked || !unbind || unbind.endedAt === null) {
      failures.push(`cycle ${cycle.cycle}: the agent reported no blocked unbind (${agent.outcome})`);
      continue;
    }
    const reportedAt = guestMonotonic(ctx.run, unbind.endedAt);
    const startedAt = writeMarker
      ? markerGoneAt(ctx.run, writeMarker, cycle)
      : guestMonotonic(ctx.run, unbind.startedAt);
    if (reportedAt === null || startedAt === null) {
      failures.push(`cycle ${cycle.cycle}: lab-watch never saw ${writeMarker ?? 'the unbind'} go`);
      continue;
    }
    const after = round1(reportedAt - startedAt);
    reportedAfter.push(after);
    blockedFor.push(round1(blocked.sinceSeconds * 1000));
    // Reported at the deadline: not before it, and not long after (the agent stays responsive).
    // 100 ms of slack before: the marker goes only once the write has gone through the driver
    // core into remove() (up to ~25 ms after the write under TCG on one machine, 54 ms on a
    // slower one), and lab-watch looks every 5 ms. Without a marker the step's start precedes
    // the write: only "not before" is checked.
    const late = writeMarker !== undefined && after > ctx.unbindDeadlineMs + withinMs;
    if (after < ctx.unbindDeadlineMs - 100 || late) {
      failures.push(`cycle ${cycle.cycle}: reported blocked ${after} ms after ${from}`);
    }
    const expected = instancesAt(ctx.run, cycle.startAt)
      .map((app) => app.pid)
      .sort((a, b) => a - b);
    const named = blocked.holders.map((holder) => holder.pid).sort((a, b) => a - b);
    if (named.length !== holders || named.join() !== expected.join()) {
      failures.push(
        `cycle ${cycle.cycle}: holders named ${named.join(',') || 'none'}, applications ${expected.join(',')}`,
      );
    }
  }
  return verdict(
    name,
    failures,
    `reported blocked ${span(reportedAfter)} after ${from}, naming the ${holders} holders; the unbind returned after ${span(blockedFor)} blocked`,
  );
}

export function holdersSignalled(ctx: CheckContext, killed: readonly string[]): CheckResult {
  const name = `holders-signalled (SIGTERM${killed.length > 0 ? `; SIGKILL for ${killed.join(', ')}` : ''})`;
  const { run } = ctx;
  const failures: string[] = [];
  const afterDeadline: number[] = [];
  const unbindReturned: number[] = [];
  for (const cycle of run.cycles) {
    const agent = agentOf(cycle, failures);
    const unbind = agent?.steps.find((step) => step.phase === 'unbind');
    const wait = agent?.steps.find((step) => step.phase === 'unbind-blocked');
    const stuckAt = unbind?.endedAt ? guestMonotonic(run, unbind.endedAt) : null;
    const returned = wait?.endedAt ? guestMonotonic(run, wait.endedAt) : null;
    if (!agent || stuckAt === null || returned === null) {
      if (agent) failures.push(`cycle ${cycle.cycle}: no blocked unbind in the agent's report`);
      continue;
    }
    let lastEnd = stuckAt;
    for (const holder of agent.blockedUnbind?.holders ?? []) {
      const app = run.appStarts.find((start) => start.pid === holder.pid)?.name ?? `pid ${holder.pid}`;
      const end = run.appEnds.find((candidate) => candidate.pid === holder.pid);
      if (killed.includes(app)) {
        // It ignores SIGTERM: only the SIGKILL after the grace period ends it, leaving no line.
        if (end) failures.push(`cycle ${cycle.cycle}: ${app} ended by SIGTERM, yet it ignores SIGTERM`);
        lastEnd = Math.max(lastEnd, stuckAt + ctx.graceMs);
      } else if (!end) {
        failures.push(`cycle ${cycle.cycle}: ${app} did not end by SIGTERM (killed, or still running)`);
      } else if (end.at < stuckAt) {
        failures.push(`cycle ${cycle.cycle}: ${app} ended before the deadline`);
      } else if (!end.holding) {
        failures.push(`cycle ${cycle.cycle}: ${app} no longer held the device`);
      } else {
        afterDeadline.push(round1(end.at - stuckAt));
        lastEnd = Math.max(lastEnd, end.at);
      }
    }
    unbindReturned.push(round1(returned - lastEnd));
    // 10 ms: the grace timer and the guest's clocks do not tick together.
    if (returned < lastEnd - 10) failures.push(`cycle ${cycle.cycle}: the unbind returned before the holders ended`);
  }
  const kill = killed.length > 0 ? `, ${killed.join(', ')} by SIGKILL after the ${ctx.graceMs} ms grace` : '';
  return verdict(
    name,
    failures,
    `holders ended by SIGTERM ${span(afterDeadline)} after the deadline${kill}; the unbind returned ${span(unbindReturned)} after the last one`,
  );
}

export function appsRestartEveryCycle(ctx: CheckContext): CheckResult {
  const name = 'apps-restart-every-cycle';
  const { run } = ctx;
  const failures: string[] = [];
  const delays: number[] = [];
  for (const cycle of run.cycles) {
    for (const app of ctx.restartingApps) {
      const previous = instancesAt(run, cycle.startAt).find((start) => start.name === app);
      const next = run.appStarts.find(
        (start) => start.name === app && start.openedAt > cycle.startAt && start.openedAt <= cycle.settledAt,
      );
      const node = (start: AppStart | undefined): string => `${String(start?.dev)}/${String(start?.ino)}`;
      if (!previous || !next) failures.push(`cycle ${cycle.cycle}: ${app} has no new instance`);
      else if (next.pid === previous.pid || node(next) === node(previous)) {
        failures.push(`cycle ${cycle.cycle}: ${app}'s new instance does not hold a new node (${node(next)})`);
      } else delays.push(round1(next.openedAt - cycle.startAt));
    }
  }
  return verdict(
    name,
    failures,
    `each of ${ctx.restartingApps.join(', ')} came back as a new process on the new node, ${span(delays)} after the cycle began`,
  );
}

export function swapsFail(ctx: CheckContext, outcome: string): CheckResult {
  const name = `swaps-fail (${outcome})`;
  const failures: string[] = [];
  for (const cycle of ctx.run.cycles) {
    const agent = agentOf(cycle, failures);
    if (cycle.exit === 0) failures.push(`cycle ${cycle.cycle}: the swap command exited 0`);
    if (agent && agent.outcome !== outcome) failures.push(`cycle ${cycle.cycle}: outcome ${agent.outcome}`);
  }
  return verdict(name, failures, `every swap ended ${outcome} with a non-zero exit`);
}
