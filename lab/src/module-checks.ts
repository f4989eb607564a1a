import {
  evidence,
  fail,
  guestMonotonic,
  moduleAt,
  moduleSamples,
  skip,
  verdict,
  type CheckContext,
  type CheckResult,
} from './check-result.js';
import type { SwapCycle } from './lab-run.js';
import { round1 } from './stats.js';

/*
 * Checks against lab-watch, the guest's own record of the modules' sysfs state: what the
 * kernel had loaded, not what the swap command says it loaded.
 */

const absent = (state: string): boolean => state === 'absent';

/** When the swapped module disappeared during the cycle, if it did. */
function unloadedAt(ctx: CheckContext, cycle: SwapCycle): number | null {
  const gone = moduleSamples(ctx.run, ctx.swappedModule, cycle.startAt, cycle.settledAt).find((s) => absent(s.state));
  return gone?.at ?? null;
}

/** Applications whose zombie was still open at `at`: before their close() began. */
function zombiesOpenAt(cycle: SwapCycle, at: number): string[] {
  return [...cycle.apps.values()].filter((app) => app.errorAt <= at && at < app.closingAt).map((app) => app.name);
}

function loadedVersions(ctx: CheckContext, field: 'version' | 'srcversion'): CheckResult {
  const name = `${field}-matches-target`;
  const { run, targets, swappedModule } = ctx;
  if (targets.every((target) => target === null)) return skip(name, 'the runbook targets a version, not a file');
  if (field === 'srcversion' && targets.every((target) => target?.srcversion === '')) {
    return skip(name, 'the target file has no srcversion (no MODULE_VERSION, CONFIG_MODULE_SRCVERSION_ALL unset)');
  }
  if (!run.modules.some((sample) => sample.name === swappedModule)) {
    return fail(name, `lab-watch reported nothing for ${swappedModule}`);
  }
  const failures: string[] = [];
  const seen = new Set<string>();
  for (const cycle of run.cycles) {
    const target = targets[cycle.variant];
    const before = moduleAt(run, swappedModule, cycle.startAt);
    const after = moduleAt(run, swappedModule, cycle.settledAt);
    if (!target) {
      failures.push(`cycle ${cycle.cycle}: no target file`);
      continue;
    }
    if (!after || absent(after.state)) {
      failures.push(`cycle ${cycle.cycle}: ${swappedModule} not loaded after the swap`);
      continue;
    }
    seen.add(after[field]);
    if (after[field] !== target[field]) {
      failures.push(`cycle ${cycle.cycle}: loaded ${after[field] || '(none)'}, target ${target[field]}`);
    } else if (field === 'version' && before?.version === after.version) {
      failures.push(`cycle ${cycle.cycle}: the version did not change (${after.version})`);
    }
  }
  return verdict(name, failures, `loaded ${field} = the target file's after every cycle (${[...seen].join(' ↔ ')})`);
}

export const versionMatches = (ctx: CheckContext): CheckResult => loadedVersions(ctx, 'version');
export const srcversionMatches = (ctx: CheckContext): CheckResult => loadedVersions(ctx, 'srcversion');

export function unloadWhileZombies(ctx: CheckContext): CheckResult {
  const name = 'unload-while-zombies';
  const failures: string[] = [];
  const margins: number[] = [];
  for (const cycle of ctx.run.cycles) {
    const at = unloadedAt(ctx, cycle);
    if (at === null) {
      failures.push(`cycle ${cycle.cycle}: ${ctx.swappedModule} was never unloaded`);
      continue;
    }
    const open = zombiesOpenAt(cycle, at);
    if (open.length === 0) failures.push(`cycle ${cycle.cycle}: no zombie open when ${ctx.swappedModule} went`);
    const lastClose = Math.max(...[...cycle.apps.values()].map((app) => app.closedAt));
    margins.push(round1(lastClose - at));
  }
  const range = margins.length > 0 ? `${Math.min(...margins)}–${Math.max(...margins)} ms` : 'n/a';
  return verdict(name, failures, `${ctx.swappedModule} unloaded every cycle while a zombie stayed open ${range} more`);
}

export function modulePinned(ctx: CheckContext, module: string): CheckResult {
  const name = `module-pinned (${module})`;
  const { run } = ctx;
  const failures: string[] = [];
  const atUnload: number[] = [];
  const after: number[] = [];
  for (const cycle of run.cycles) {
    const states = [
      moduleAt(run, module, cycle.startAt),
      ...moduleSamples(run, module, cycle.startAt, cycle.settledAt),
    ];
    if (states.some((sample) => !sample || absent(sample.state))) {
      failures.push(`cycle ${cycle.cycle}: ${module} was not loaded throughout`);
      continue;
    }
    const at = unloadedAt(ctx, cycle);
    const pinned = at === null ? null : moduleAt(run, module, at);
    const open = at === null ? 0 : zombiesOpenAt(cycle, at).length;
    if (pinned) atUnload.push(pinned.refcnt);
    if (at !== null && (!pinned || pinned.refcnt < open)) {
      failures.push(`cycle ${cycle.cycle}: refcnt ${pinned?.refcnt ?? '?'} with ${open} zombies open`);
    }
    const end = moduleAt(run, module, cycle.settledAt);
    if (end) after.push(end.refcnt);
    if (!end?.holders.split(',').includes(ctx.swappedModule)) {
      failures.push(`cycle ${cycle.cycle}: ${ctx.swappedModule} is not among ${module}'s holders after the load`);
    }
  }
  const span = (values: number[]): string =>
    values.length > 0 ? `${Math.min(...values)}–${Math.max(...values)}` : 'n/a';
  return verdict(
    name,
    failures,
    `${module} loaded throughout; refcnt ${span(atUnload)} while ${ctx.swappedModule} was gone (the zombies), ${span(after)} after each cycle, ${ctx.swappedModule} among its holders`,
  );
}

export function oldDriverRebound(ctx: CheckContext): CheckResult {
  const name = 'old-driver-rebound';
  const { run, swappedModule } = ctx;
  const failures: string[] = [];
  const delays: number[] = [];
  for (const cycle of run.cycles) {
    const before = moduleAt(run, swappedModule, cycle.startAt);
    const during = moduleSamples(run, swappedModule, cycle.startAt, cycle.settledAt);
    if (!before || absent(before.state) || during.some((sample) => absent(sample.state))) {
      failures.push(`cycle ${cycle.cycle}: ${swappedModule} was unloaded`);
    }
    const after = moduleAt(run, swappedModule, cycle.settledAt);
    if (after?.version !== before?.version) {
      failures.push(`cycle ${cycle.cycle}: version ${before?.version} -> ${after?.version}`);
    }
    const { agent, missing } = evidence(cycle);
    const rebind = agent?.steps.find((step) => step.phase === 'restore-rebind');
    if (!agent || !rebind) {
      failures.push(`cycle ${cycle.cycle}: ${missing ?? 'the agent reports no restore-rebind'}`);
      continue;
    }
    if (cycle.apps.size < run.apps.length) failures.push(`cycle ${cycle.cycle}: not every holder reopened`);
    const rebindAt = guestMonotonic(run, rebind.startedAt);
    const closes = [...cycle.apps.values()].map((app) => app.closingAt);
    if (closes.length === 0 || rebindAt === null) {
      failures.push(`cycle ${cycle.cycle}: no application closed and reopened`);
      continue;
    }
    const delay = round1(rebindAt - Math.max(...closes));
    delays.push(delay);
    if (delay < 0)
      failures.push(`cycle ${cycle.cycle}: rebind began ${-delay} ms before the holders closed (their close() began)`);
  }
  const range = delays.length > 0 ? `${Math.min(...delays)}–${Math.max(...delays)} ms` : 'n/a';
  return verdict(
    name,
    failures,
    `${swappedModule} never unloaded, version unchanged; the old driver rebound ${range} after the last holder's close() began; every holder reopened`,
  );
}
