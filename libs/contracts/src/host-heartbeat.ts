/**
 * What an agent writes to the registry on every heartbeat (a hash at `hostKey(id)`, and its
 * score in the `HOSTS_KEY` sorted set). The controller reads it; nothing else is shared.
 */
export interface HostHeartbeat {
  readonly hostId: string;
  readonly agentVersion: string;
  readonly kernel: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly lastSeen: number;
  readonly busy: boolean;
  readonly metricsUrl: string | null;
  /** The loaded version of each module in `WATCHED_MODULES_KEY` or swapped by this agent. */
  readonly modules: readonly ModuleVersion[];
}

/** One module's version on a host, as `/sys/module/NAME/{version,srcversion}` read it. */
export interface ModuleVersion {
  readonly name: string;
  readonly loaded: boolean;
  readonly version: string | null;
  readonly srcversion: string | null;
}

/** A host is unavailable once it missed this many heartbeat intervals. */
export const HEARTBEAT_INTERVAL_MS = 2000;
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_INTERVAL_MS;

/**
 * A Redis set of module names the controller's runbooks name (stored runbooks and rollouts):
 * each agent reports those modules' versions in its heartbeat, so the host list shows them and
 * the scheduler can skip hosts already on a target without asking each host.
 */
export const WATCHED_MODULES_KEY = 'hotswap:watched-modules';

/** At most this many modules are reported per heartbeat (the set only grows with runbooks). */
export const MAX_REPORTED_MODULES = 64;
