import type { DryRunPlan } from '@hotswap/contracts';
import type {
  AppCycle,
  AppEnd,
  AppStart,
  GuestLine,
  GuestRecord,
  ModuleSample,
  PathSample,
  RawKind,
  RecordOf,
} from './guest-records.js';
import { parseSwapResult, type SwapResult } from './swap-result.js';

export interface SwapCycle {
  readonly cycle: number;
  /** The `swap.alternate` entry (and runbook) this cycle ran. */
  readonly variant: number;
  readonly exit: number;
  /** Guest monotonic ms: swap command started, returned, every application reopened. */
  readonly startAt: number;
  readonly endAt: number;
  readonly settledAt: number;
  readonly settled: boolean;
  readonly result: SwapResult;
  readonly stderrTail: readonly string[];
  /** `swap --dry-run --json` run just before this cycle (the first cycle of each variant), or why not. */
  readonly dryRun: DryRunPlan | string | null;
  /** Each application's error -> reopen cycle that began during this swap cycle, by app name. */
  readonly apps: ReadonlyMap<string, AppCycle>;
}

/** Everything the guest reported, put in order. Pure: built from parsed lines. */
export interface LabRun {
  readonly init: RecordOf<'init'> | null;
  /** Host ms since QEMU started when the init record arrived: boot to init. */
  readonly initHostMs: number | null;
  readonly modulesLoaded: RecordOf<'modules-loaded'> | null;
  readonly agentSmoke: (RecordOf<'agent-smoke'> & { readonly stderrTail: readonly string[] }) | null;
  /** Each application's first instance. */
  readonly apps: readonly AppStart[];
  /** Every instance's start (a restarted application has one per cycle) and end. */
  readonly appStarts: readonly AppStart[];
  readonly appEnds: readonly AppEnd[];
  readonly appCycles: readonly AppCycle[];
  /** lab-watch's samples of the watched modules, in time order. */
  readonly modules: readonly ModuleSample[];
  /** lab-watch's watched paths, appearing and vanishing. */
  readonly paths: readonly PathSample[];
  readonly cycles: readonly SwapCycle[];
  readonly done: boolean;
  readonly fatal: string | null;
  readonly garbled: readonly string[];
}

/** The swap cycle whose window [its start, the next one's start) holds this error. */
function cycleOf(appCycle: AppCycle, starts: readonly { cycle: number; at: number }[]): number | null {
  let found: number | null = null;
  for (const start of starts) if (appCycle.errorAt >= start.at) found = start.cycle;
  return found;
}

function recordsOf<T extends GuestRecord['t']>(
  lines: readonly GuestLine[],
  t: T,
): { record: RecordOf<T>; hostMs: number }[] {
  return lines.flatMap((line) =>
    line.kind === 'record' && line.record.t === t ? [{ record: line.record as RecordOf<T>, hostMs: line.hostMs }] : [],
  );
}

/** The dry run's JSON plan, the reason it is not one, or null when none ran. */
function parseDryRun(stdout: readonly string[]): DryRunPlan | string | null {
  if (stdout.length === 0) return null;
  const last = stdout.filter((line) => line.trim().startsWith('{')).at(-1);
  try {
    const plan = JSON.parse(last ?? '') as Partial<DryRunPlan>;
    if (plan.kind === 'dry-run' && Array.isArray(plan.predictions)) return plan as DryRunPlan;
  } catch {
    // reported below
  }
  return `the dry run printed no plan: ${stdout.join(' ').slice(0, 200)}`;
}

export function assembleRun(lines: readonly GuestLine[]): LabRun {
  const all = <T extends GuestRecord['t']>(t: T): RecordOf<T>[] => recordsOf(lines, t).map((entry) => entry.record);
  const raw = (kind: RawKind, cycle: number): string[] =>
    lines.flatMap((line) => (line.kind === kind && line.cycle === cycle ? [line.text] : []));
  const starts = all('cycle-start');
  const appCycles = all('cycle');
  const variantOf = new Map(starts.map((start) => [start.cycle, start.variant]));
  const cycles = all('swap').map((swap): SwapCycle => {
    const apps = new Map<string, AppCycle>();
    for (const appCycle of appCycles) {
      if (cycleOf(appCycle, starts) === swap.cycle && !apps.has(appCycle.name)) apps.set(appCycle.name, appCycle);
    }
    return {
      cycle: swap.cycle,
      variant: variantOf.get(swap.cycle) ?? 0,
      exit: swap.exit,
      startAt: swap.startAt,
      endAt: swap.endAt,
      settledAt: swap.settledAt,
      settled: swap.settled,
      result: parseSwapResult(raw('swap-out', swap.cycle)),
      stderrTail: raw('swap-err', swap.cycle),
      dryRun: parseDryRun(raw('dry-run', swap.cycle)),
      apps,
    };
  });
  const init = recordsOf(lines, 'init')[0];
  const smoke = all('agent-smoke')[0];
  return {
    init: init?.record ?? null,
    initHostMs: init?.hostMs ?? null,
    modulesLoaded: all('modules-loaded')[0] ?? null,
    agentSmoke: smoke ? { ...smoke, stderrTail: raw('swap-err', 0) } : null,
    apps: all('app-start').filter((app, index, list) => list.findIndex((a) => a.name === app.name) === index),
    appStarts: all('app-start'),
    appEnds: all('app-end'),
    appCycles,
    modules: all('mod'),
    paths: all('path'),
    cycles,
    done: all('done').length > 0,
    fatal: all('fatal')[0]?.msg ?? null,
    garbled: lines.flatMap((line) => (line.kind === 'garbled' ? [line.text] : [])),
  };
}
