import { readFile } from 'node:fs/promises';
import { RunbookValidationError, validateRunbook, type Runbook } from '@hotswap/runbook';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ScenarioError } from './lab.errors.js';
import { scenarioSchema, type Scenario } from './scenario.schema.js';

export interface LoadedScenario {
  readonly file: string;
  readonly scenario: Scenario;
  /**
   * The inline runbook with the guest's kernel release filled in, validated: one per
   * `swap.alternate` entry (cycle N runs entry (N-1) % length).
   */
  readonly runbooksFor: (release: string) => Runbook[];
}

/** `${NAME}` -> its value in every string of a plain value; an unknown name is an error. */
export function substitute(value: unknown, vars: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (whole, name: string) => {
      const found = vars[name];
      if (found === undefined)
        throw new ScenarioError(`${whole} is not defined (known: ${Object.keys(vars).join(', ')})`);
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, vars)]));
  }
  return value;
}

function formatZodIssues(file: string, issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
}

function runbooksFor(file: string, scenario: Scenario): (release: string) => Runbook[] {
  return (release) =>
    scenario.swap.alternate.map((vars, index) => {
      const where = `${file} (runbook, swap.alternate[${index}])`;
      try {
        return validateRunbook(substitute(scenario.runbook, { ...vars, KERNEL_RELEASE: release }), where);
      } catch (error) {
        if (error instanceof RunbookValidationError) throw new ScenarioError(error.message);
        if (error instanceof ScenarioError) throw new ScenarioError(`${where}: ${error.message}`);
        throw error;
      }
    });
}

/** Reads and validates a scenario, its inline runbook included (with a placeholder release). */
export async function loadScenario(file: string): Promise<LoadedScenario> {
  let raw: unknown;
  try {
    raw = parse(await readFile(file, 'utf8'), { uniqueKeys: true });
  } catch (error) {
    throw new ScenarioError(`${file}: ${(error as Error).message}`);
  }
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) throw new ScenarioError(formatZodIssues(file, result.error.issues));
  const scenario = result.data;
  const names = scenario.applications.map((app) => app.name);
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) throw new ScenarioError(`${file}: applications: "${twice}" is listed twice`);
  for (const check of scenario.checks) {
    if (check.check === 'app-recovery' && !names.includes(check.app)) {
      throw new ScenarioError(`${file}: checks: app-recovery names "${check.app}", not an application`);
    }
  }
  const restarting = scenario.applications.some((app) => app.recovers === 'restart');
  for (const check of scenario.checks) {
    if (check.check === 'apps-restart-every-cycle' && !restarting) {
      throw new ScenarioError(`${file}: checks: apps-restart-every-cycle, but no application has recovers: restart`);
    }
  }
  const forRelease = runbooksFor(file, scenario);
  forRelease('0.0.0-lab'); // fail on a runbook typo before downloading anything
  return { file, scenario, runbooksFor: forRelease };
}
