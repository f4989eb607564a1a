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
}

/** A host is unavailable once it missed this many heartbeat intervals. */
export const HEARTBEAT_INTERVAL_MS = 2000;
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_INTERVAL_MS;
