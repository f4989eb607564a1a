import type { CensusTarget, ModuleVersion } from '@hotswap/contracts';
import type { ModuleStep } from '@hotswap/runbook';

/**
 * Whether a host's module stack already runs a runbook's target, module by module, as the
 * agent's own preflight decides it (libs/swap `alreadyOnTarget`): the same srcversion when both
 * are known, else the same version. The host's side comes from its heartbeat (GET /v1/hosts) or
 * a live census; the target's from a census that resolved it on the host, or else the version
 * the runbook names (a `file` target has none until a census resolves it). Pure.
 *
 * true: every module matches; false: one does not (or is not loaded); null: one cannot be
 * compared (not reported, nothing known of its target, or a loaded srcversion with no resolved
 * target to compare it with), so the host is not skipped.
 */
export function stackOnTarget(
  stack: readonly ModuleStep[],
  loaded: readonly ModuleVersion[],
  resolved: readonly CensusTarget[] = [],
): boolean | null {
  let verdict: boolean | null = true;
  for (const step of stack) {
    const current = loaded.find((module) => module.name === step.name);
    const target = resolved.find(
      (t): t is Extract<CensusTarget, { file: string }> => t.module === step.name && 'file' in t,
    );
    const targetVersion = target?.version ?? ('version' in step.target ? step.target.version : null);
    let match: boolean | null;
    if (!current) match = null;
    else if (!current.loaded) match = false;
    else if (current.srcversion && target?.srcversion) match = current.srcversion === target.srcversion;
    // The agent compares srcversions whenever the module has one: a module rebuilt without a
    // version change (a hot fix) runs the same version but not the target, so the version alone
    // cannot say it until a census resolves the target's srcversion.
    else if (current.srcversion && !target) match = null;
    else if (targetVersion && current.version) match = current.version === targetVersion;
    else match = null;
    if (match === false) return false;
    if (match === null) verdict = null;
  }
  return verdict;
}
