import type { LabelSelector } from './label-selector.schema.js';
import type { Runbook } from './runbook.schema.js';
import { RunbookValidationError } from './runbook-validation.error.js';

/** How a rollout finds its hosts: by name, or by labels matched against the host registry. */
export type RolloutHosts = { names: string[] } | { matchLabels: LabelSelector['matchLabels'] };

const noHosts = (): RunbookValidationError =>
  new RunbookValidationError([
    {
      path: 'spec.hosts',
      message:
        'a rollout needs the hosts to swap: list them under spec.hosts.names or select them with spec.hosts.selector',
    },
  ]);

/**
 * The hosts a rollout covers. `spec.hosts` is optional in the schema (the agent's one-host mode
 * has none); a rollout cannot start without it.
 */
export function hostSelectorOf(runbook: Runbook): RolloutHosts {
  const hosts = runbook.spec.hosts;
  if (hosts === undefined) throw noHosts();
  if (hosts.selector !== undefined) return { matchLabels: { ...hosts.selector.matchLabels } };
  if (hosts.names.length === 0) throw noHosts();
  return { names: [...hosts.names] };
}

/**
 * The host names of a runbook that lists them. A runbook that selects hosts by labels is refused
 * here: only the host registry can resolve a selector (see `hostSelectorOf`).
 */
export function requireHosts(runbook: Runbook): string[] {
  const names = runbook.spec.hosts?.names ?? [];
  if (names.length === 0) {
    const bySelector = runbook.spec.hosts?.selector !== undefined;
    throw new RunbookValidationError([
      {
        path: 'spec.hosts.names',
        message: bySelector
          ? 'this runbook selects its hosts by labels (spec.hosts.selector): resolve them against the host registry (hostSelectorOf)'
          : 'a rollout needs the hosts to swap: list at least one under spec.hosts.names',
      },
    ]);
  }
  return [...names];
}
