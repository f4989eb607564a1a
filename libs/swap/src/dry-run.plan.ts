import type { DryRunPlan } from '@hotswap/contracts';
import { modulesRemovedWith, rollbackModuleOf } from './module-removal.set.js';
import { preflightVerdict } from './preflight.verdict.js';
import { summarizeHolder } from './holder-summary.js';
import { predictSwap } from './subsystem.prediction.js';
import type { HostInspection } from './swap.effects.js';
import type { SwapPlan } from './swap-plan.js';

export interface DryRunMeta {
  readonly hostId: string;
  readonly runbook: string;
  readonly at: number;
}

/** What every dry-run plan starts with: its contract version and which host, runbook and time. */
function headerOf(meta: DryRunMeta): Pick<DryRunPlan, 'v' | 'kind' | 'hostId' | 'runbook' | 'at'> {
  return { v: 1, kind: 'dry-run', hostId: meta.hostId, runbook: meta.runbook, at: meta.at };
}

const VERDICTS = { refuse: 'would-refuse', skip: 'would-skip', swap: 'would-swap' } as const;

/**
 * The dry run's plan from preflight's reading of the host: the verdict the swap would reach,
 * the predictions it would make, who pins the stack, and what a rollback would load back.
 */
export function dryRunPlan(plan: SwapPlan, inspection: HostInspection, meta: DryRunMeta): DryRunPlan {
  const verdict = preflightVerdict(plan, inspection);
  const predicted = predictSwap({
    modules: plan.modules,
    driver: plan.devices.driver,
    devices: inspection.devices,
    nodeClasses: inspection.nodeClasses,
    loaded: inspection.modules,
    holders: inspection.holders,
    override: plan.subsystem,
  });
  const stack = inspection.modules.filter((m) => m !== null);
  const deps = new Map(inspection.dependencies.map((m) => [m.name, m]));
  return {
    ...headerOf(meta),
    verdict: VERDICTS[verdict.verdict],
    reasons: verdict.reasons,
    notes: inspection.notes,
    modules: plan.modules.map((name, i) => {
      const mod = inspection.modules[i] ?? null;
      const target = inspection.targets.find((t) => t.module === name) ?? null;
      return {
        name,
        loaded: mod !== null,
        version: mod?.version ?? null,
        srcversion: mod?.srcversion ?? null,
        refcnt: mod?.refcnt ?? null,
        holders: mod?.holders ?? [],
        target: target && { file: target.file, version: target.version, srcversion: target.srcversion },
      };
    }),
    devices: predicted.devices,
    predictions: predicted.predictions,
    holders: inspection.holders.map(summarizeHolder),
    pins: predicted.pins,
    rollback: modulesRemovedWith(stack, deps).map(rollbackModuleOf),
  };
}

/** The plan when preflight cannot read the host: a refusal, as the swap itself would refuse. */
export function uninspectableDryRun(error: string, meta: DryRunMeta): DryRunPlan {
  return {
    ...headerOf(meta),
    verdict: 'would-refuse',
    reasons: [`cannot inspect host: ${error}`],
    notes: [],
    modules: [],
    devices: [],
    predictions: [],
    holders: [],
    pins: [],
    rollback: [],
  };
}
