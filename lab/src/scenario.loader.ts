import { readFile } from 'node:fs/promises';
import { RunbookValidationError, validateRunbook, type Runbook } from '@hotswap/runbook';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ScenarioError } from './lab.errors.js';
import { scenarioSchema, type Scenario } from './scenario.schema.js';

export const KERNEL_RELEASE_PLACEHOLDER = '${KERNEL_RELEASE}';

export interface LoadedScenario {
  readonly file: string;
  readonly scenario: Scenario;
  /** The inline runbook with the guest's kernel release filled in, validated. */
  readonly runbookFor: (release: string) => Runbook;
}

function substitute(value: unknown, release: string): unknown {
  if (typeof value === 'string') return value.replaceAll(KERNEL_RELEASE_PLACEHOLDER, release);
  if (Array.isArray(value)) return value.map((item) => substitute(item, release));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, release)]));
  }
  return value;
}

function formatZodIssues(file: string, issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
}

function runbookFor(file: string, raw: unknown): (release: string) => Runbook {
  return (release) => {
    try {
      return validateRunbook(substitute(raw, release), `${file} (runbook)`);
    } catch (error) {
      if (error instanceof RunbookValidationError) throw new ScenarioError(error.message);
      throw error;
    }
  };
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
  const forRelease = runbookFor(file, scenario.runbook);
  forRelease('0.0.0-lab'); // fail on a runbook typo before downloading anything
  return { file, scenario, runbookFor: forRelease };
}
