import type { Runbook } from './runbook.schema.js';
import { RunbookValidationError } from './runbook-validation.error.js';

/**
 * The hosts a rollout covers. `spec.hosts` is optional in the schema (the agent's one-host mode
 * has none); a rollout cannot start without it.
 */
export function requireHosts(runbook: Runbook): string[] {
  const names = runbook.spec.hosts?.names ?? [];
  if (names.length === 0) {
    throw new RunbookValidationError([
      {
        path: 'spec.hosts.names',
        message: 'a rollout needs the hosts to swap: list at least one under spec.hosts.names',
      },
    ]);
  }
  return [...names];
}
