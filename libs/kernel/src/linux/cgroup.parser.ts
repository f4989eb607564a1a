/** Which container runtime a cgroup path belongs to. */
export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o' | 'podman' | 'lxc' | 'container';

/** What a process's cgroup says about where it runs. */
export interface CgroupIdentity {
  /** The cgroup path used (v2 unified, else systemd's v1 hierarchy), or null at the root. */
  readonly path: string | null;
  /**
   * The unit a holder is reported under: the systemd unit (`nginx.service`, `session-3.scope`),
   * or for a container `RUNTIME://ID` (the form Kubernetes uses in a pod's containerID). Null
   * when the process is in no unit.
   */
  readonly unit: string | null;
  readonly container: { readonly runtime: ContainerRuntime; readonly id: string } | null;
  /** Kubernetes pod UID (stable across container restarts in the pod), when in a pod. */
  readonly pod: string | null;
}

const NONE: CgroupIdentity = { path: null, unit: null, container: null, pod: null };

/**
 * Picks the cgroup path from /proc/PID/cgroup ("ID:CONTROLLERS:PATH" lines): the v2 line ("0::")
 * unless it is the root, else the `name=systemd` v1 line, else the first non-root line.
 */
export function cgroupPathOf(text: string): string | null {
  const lines = text
    .split('\n')
    .map((l) => /^(\d+):([^:]*):(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ id: m[1] as string, controllers: (m[2] as string).split(','), path: m[3] as string }));
  const useful = (p: string | undefined) => (p && p !== '/' ? p : undefined);
  return (
    useful(lines.find((l) => l.id === '0' && l.controllers.join('') === '')?.path) ??
    useful(lines.find((l) => l.controllers.includes('name=systemd'))?.path) ??
    useful(lines.find((l) => useful(l.path))?.path) ??
    null
  );
}

const ID = '([0-9a-f]{64})';
const CONTAINER_PATTERNS: readonly (readonly [RegExp, ContainerRuntime])[] = [
  [new RegExp(`(?:^|/)docker-${ID}\\.scope(?:/|$)`), 'docker'],
  [new RegExp(`(?:^|/)docker/${ID}(?:/|$)`), 'docker'],
  [new RegExp(`(?:^|/)cri-containerd-${ID}\\.scope(?:/|$)`), 'containerd'],
  [new RegExp(`(?:^|/)crio-${ID}\\.scope(?:/|$)`), 'cri-o'],
  [new RegExp(`(?:^|/)libpod-${ID}\\.scope(?:/|$)`), 'podman'],
  // kubepods with the cgroupfs driver: /kubepods/burstable/pod<uid>/<id>; runtime not named.
  [new RegExp(`(?:^|/)kubepods(?:/[a-z]+)?/pod[0-9a-f-]+/${ID}(?:/|$)`), 'container'],
];

/** Identifies the unit or container of a process from the content of /proc/PID/cgroup. */
export function parseCgroup(text: string): CgroupIdentity {
  const path = cgroupPathOf(text);
  if (path === null) return NONE;
  const podMatch = /(?:^|[/-])pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/.exec(path);
  const pod = podMatch ? (podMatch[1] as string).replace(/_/g, '-') : null;
  for (const [pattern, runtime] of CONTAINER_PATTERNS) {
    const m = pattern.exec(path);
    if (m) {
      const id = m[1] as string;
      return { path, unit: `${runtime}://${id}`, container: { runtime, id }, pod };
    }
  }
  const lxc = /(?:^|\/)(?:lxc\.payload\.|lxc\/)([^/]+)/.exec(path);
  if (lxc) {
    const id = lxc[1] as string;
    return { path, unit: `lxc://${id}`, container: { runtime: 'lxc', id }, pod };
  }
  const segments = path.split('/').filter((s) => s !== '');
  const unit = [...segments].reverse().find((s) => s.endsWith('.service') || s.endsWith('.scope')) ?? null;
  return { path, unit, container: null, pod };
}
