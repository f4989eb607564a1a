import assert from 'node:assert/strict';
import { parseRunbook, RunbookValidationError, type RunbookIssue } from '../src/index.js';

/** A minimal valid runbook; lines appended to it land under `spec:` (indent them by two). */
export const MINIMAL = `apiVersion: hotswap/v1
kind: Runbook
metadata:
  name: sim-misc
spec:
  modules:
    - name: hs_misc
      target:
        version: "2.0"
  devices:
    bus: platform
    driver: hs_misc
`;

/** Every issue of a runbook that must be refused. */
export function issuesOf(text: string, source?: string): readonly RunbookIssue[] {
  try {
    parseRunbook(text, source);
  } catch (error) {
    assert.ok(error instanceof RunbookValidationError, String(error));
    return error.issues;
  }
  return assert.fail('expected the runbook to be refused');
}

/** The one issue at `path`, asserting there is exactly one. */
export function issueAt(text: string, path: string): RunbookIssue {
  const issues = issuesOf(text);
  const found = issues.filter((issue) => issue.path === path);
  assert.equal(found.length, 1, `issues at ${path}: ${JSON.stringify(issues, null, 2)}`);
  return found[0] as RunbookIssue;
}
