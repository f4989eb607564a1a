import { HEARTBEAT_TTL_MS, type ModuleVersion } from '@hotswap/contracts';

/**
 * The registry as agents write it (apps/agent HeartbeatService; libs/contracts HostHeartbeat):
 *
 *   hotswap:{registry}:hosts          sorted set: member = hostId, score = lastSeen (epoch ms)
 *   hotswap:{registry}:host:<hostId>  hash, every field a string:
 *     hostId        the host id
 *     agentVersion  e.g. "0.1.0"
 *     kernel        `uname -r`
 *     labels        JSON object of string → string, e.g. {"rack":"r1"}
 *     lastSeen      epoch ms in decimal
 *     busy          "1" while a swap runs, else "0"
 *     metricsUrl    the agent's /metrics URL, "" when unknown
 *     modules       JSON list of {name, loaded, version, srcversion}: the modules the runbooks
 *                   name (WATCHED_MODULES_KEY) and those the agent swapped; absent from old agents
 *
 * The hash comes from another process, possibly another version: every field is optional
 * here, and a bad one becomes a neutral value rather than an error.
 */
export interface RegisteredHost {
  readonly hostId: string;
  readonly lastSeen: number;
  readonly ageSeconds: number;
  /** Seen within HEARTBEAT_TTL_MS (the agent missed fewer than three heartbeats). */
  readonly available: boolean;
  readonly kernel: string | null;
  readonly agentVersion: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly busy: boolean;
  readonly metricsUrl: string | null;
  /** Versions of the modules relevant to runbooks, as of the last heartbeat. */
  readonly modules: readonly ModuleVersion[];
}

export function decodeHeartbeat(
  hostId: string,
  hash: Readonly<Record<string, string>>,
  score: number | null,
  now: number,
): RegisteredHost {
  const fromHash = Number(hash['lastSeen']);
  const lastSeen = Math.max(
    Number.isFinite(fromHash) ? fromHash : 0,
    score !== null && Number.isFinite(score) ? score : 0,
  );
  const age = Math.max(0, now - lastSeen);
  return {
    hostId,
    lastSeen,
    ageSeconds: Math.round(age) / 1000,
    available: lastSeen > 0 && age < HEARTBEAT_TTL_MS,
    kernel: nonEmpty(hash['kernel']),
    agentVersion: nonEmpty(hash['agentVersion']),
    labels: decodeLabels(hash['labels']),
    busy: hash['busy'] === '1',
    metricsUrl: nonEmpty(hash['metricsUrl']),
    modules: decodeModules(hash['modules']),
  };
}

const nonEmpty = (value: string | undefined): string | null => (value === undefined || value === '' ? null : value);

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Entries without a string name are dropped; a field of the wrong type becomes null. */
export function decodeModules(json: string | undefined): ModuleVersion[] {
  if (!json) return [];
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) return [];
    return value.flatMap((entry: unknown) => {
      if (typeof entry !== 'object' || entry === null) return [];
      const { name, loaded, version, srcversion } = entry as Record<string, unknown>;
      if (typeof name !== 'string' || name === '') return [];
      return [{ name, loaded: loaded === true, version: stringOrNull(version), srcversion: stringOrNull(srcversion) }];
    });
  } catch {
    return [];
  }
}

function decodeLabels(json: string | undefined): Record<string, string> {
  if (!json) return {};
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(
      Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  } catch {
    return {};
  }
}
