import type { LoadedModule, ModuleTarget } from '@hotswap/kernel';
import type { HostInspection } from './swap.effects.js';
import type { SwapPlan } from './swap-plan.js';

export type PreflightVerdict =
  | { readonly verdict: 'refuse'; readonly reasons: readonly string[] }
  | {
      readonly verdict: 'skip' | 'swap';
      readonly reasons: readonly string[];
      readonly previous: readonly LoadedModule[];
    };

/**
 * Whether the swap may go ahead on what preflight read: refuse (no device, a host-level
 * refusal, a module missing, built in, or used by a module outside the stack), skip (already on
 * the target) or swap. The swap machine and the dry run decide with this one function.
 */
export function preflightVerdict(plan: SwapPlan, inspection: HostInspection): PreflightVerdict {
  const refuse = (...reasons: string[]): PreflightVerdict => ({ verdict: 'refuse', reasons });
  if (inspection.devices.length === 0) {
    return refuse(`no device on bus ${plan.devices.bus} is bound to driver ${plan.devices.driver}`);
  }
  if (inspection.refusals.length > 0) return refuse(...inspection.refusals);
  const previous: LoadedModule[] = [];
  for (const [i, name] of plan.modules.entries()) {
    const mod = inspection.modules[i];
    if (!mod) return refuse(`module ${name} is not loaded`);
    if (!mod.unloadable) return refuse(`module ${name} is built in or permanent and cannot be unloaded`);
    const outside = mod.holders.filter((h) => !plan.modules.includes(h));
    if (outside.length > 0)
      return refuse(`module ${name} is used by ${outside.join(', ')}, which the runbook's stack does not unload`);
    previous.push(mod);
  }
  if (alreadyOnTarget(previous, inspection.targets)) {
    return { verdict: 'skip', reasons: ['already on the target (same srcversion)'], previous };
  }
  return { verdict: 'swap', reasons: [], previous };
}

/** Same srcversion (or, when either side has none, the same non-empty version) for every module. */
function alreadyOnTarget(loaded: readonly LoadedModule[], targets: readonly ModuleTarget[]): boolean {
  return loaded.every((mod) => {
    const target = targets.find((t) => t.module === mod.name);
    if (!target) return false;
    if (mod.srcversion && target.srcversion) return mod.srcversion === target.srcversion;
    return mod.version !== null && mod.version === target.version;
  });
}
