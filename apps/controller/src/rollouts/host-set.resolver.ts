import { hostSelectorOf, type Runbook } from '@hotswap/runbook';
import { HostsNotRegisteredError, SelectorMatchesNoHostsError } from '../errors/controller.errors.js';
import type { RegisteredHost } from '../hosts/host-heartbeat.decoder.js';
import type { RolloutHost } from './rollout.record.js';

/**
 * The hosts a rollout covers, resolved once, at creation, against the registry: the names the
 * runbook lists (every one must be registered), or the registered hosts whose labels include
 * every pair of `spec.hosts.selector.matchLabels` (at least one must match). Each host keeps the
 * labels it had then, so its failure domain does not move under a running rollout.
 */
export function resolveHostSet(runbook: Runbook, registered: readonly RegisteredHost[]): RolloutHost[] {
  const selector = hostSelectorOf(runbook);
  const byId = new Map(registered.map((host) => [host.hostId, host]));
  if ('names' in selector) {
    const missing = selector.names.filter((name) => !byId.has(name));
    if (missing.length > 0) throw new HostsNotRegisteredError(missing);
    return selector.names.map((hostId) => ({ hostId, labels: { ...byId.get(hostId)?.labels } }));
  }
  const wanted = Object.entries(selector.matchLabels);
  const matched = registered.filter((host) => wanted.every(([key, value]) => host.labels[key] === value));
  if (matched.length === 0) throw new SelectorMatchesNoHostsError(selector.matchLabels, registered.length);
  return matched.map((host) => ({ hostId: host.hostId, labels: { ...host.labels } }));
}
