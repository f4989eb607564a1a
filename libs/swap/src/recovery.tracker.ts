import type { RecoveryObservation } from '@hotswap/contracts';
import type { FilesSighting, Holder } from '@hotswap/kernel';
import { identityOf, type FileIdentity } from './file-identity.js';

/**
 * Recovery measurement by observing the host, never by asking the application.
 *
 * A tracked holder is a process that held the old device before the swap. Its clock starts
 * (`t0Ms`) when the unbind write returned (revoke scheme) or when it was seen to close its file
 * (wait scheme). It has recovered at the first poll that shows it holding a file or mapping on a
 * NEW node: the device's number with an inode that none of the old nodes had (identity = device
 * number + inode; a recreated node keeps the number, never the inode). Knowing only the old
 * nodes, the watch can start as soon as the device is unbound, so an application that reopens
 * while the new driver is still being verified is seen when it does. If it is gone and another process of its unit
 * (systemd unit, container) holds the new node, its service was restarted: that counts as
 * "restarted", not as "not recovered".
 */
export interface TrackedHolder {
  readonly pid: number;
  readonly comm: string;
  readonly unit: string | null;
  readonly t0Ms: number;
  readonly predictedErrno: string;
}

/** New observations from one poll of the watched processes, at time `atMs`. */
export function observeRecoveries(
  tracked: readonly TrackedHolder[],
  known: readonly RecoveryObservation[],
  watched: readonly Holder[],
  oldIds: ReadonlySet<FileIdentity>,
  atMs: number,
): RecoveryObservation[] {
  const onNewNode = (h: Holder): boolean => holdsNewNode([...h.files, ...h.mappings], oldIds);
  const done = new Set(known.map((o) => o.pid));
  const claimed = new Set(known.flatMap((o) => (o.newPid === undefined ? [] : [o.newPid])));
  const byPid = new Map(watched.map((h) => [h.pid, h]));
  const trackedPids = new Set(tracked.map((t) => t.pid));
  const found: RecoveryObservation[] = [];
  const seconds = (t: TrackedHolder): number => Math.max(0, (atMs - t.t0Ms) / 1000);

  for (const t of tracked) {
    if (done.has(t.pid)) continue;
    const self = byPid.get(t.pid);
    if (self) {
      if (onNewNode(self)) found.push({ ...base(t), status: 'recovered', seconds: seconds(t) });
      continue;
    }
    if (t.unit === null) continue;
    const successor = watched.find(
      (h) => h.unit === t.unit && !trackedPids.has(h.pid) && !claimed.has(h.pid) && onNewNode(h),
    );
    if (successor) {
      claimed.add(successor.pid);
      found.push({ ...base(t), status: 'restarted', seconds: seconds(t), newPid: successor.pid });
    }
  }
  return found;
}

/**
 * New observations from a tight look at the tracked processes' own fds: each one that holds a
 * new node has recovered at the moment its fd table was read (`at` of its sighting). Services
 * restarted under another pid are left to observeRecoveries.
 */
export function observeReopens(
  tracked: readonly TrackedHolder[],
  known: readonly RecoveryObservation[],
  sightings: readonly FilesSighting[],
  oldIds: ReadonlySet<FileIdentity>,
): RecoveryObservation[] {
  const done = new Set(known.map((o) => o.pid));
  const byPid = new Map(sightings.map((s) => [s.pid, s]));
  return tracked.flatMap((t) => {
    const sighting = byPid.get(t.pid);
    if (done.has(t.pid) || !sighting || !holdsNewNode(sighting.files, oldIds)) return [];
    return [{ ...base(t), status: 'recovered' as const, seconds: Math.max(0, (sighting.at - t.t0Ms) / 1000) }];
  });
}

/** A file or mapping on a new node: not removed, and an identity none of the old nodes had. */
function holdsNewNode(
  files: readonly { readonly deleted: boolean; readonly rdev: string; readonly ino: number }[],
  oldIds: ReadonlySet<FileIdentity>,
): boolean {
  return files.some((f) => !f.deleted && !oldIds.has(identityOf(f)));
}

/** What is left when the watch ends: exited (gone, no successor) or not recovered. */
export function closeRecoveries(
  tracked: readonly TrackedHolder[],
  known: readonly RecoveryObservation[],
  watched: readonly Holder[],
): RecoveryObservation[] {
  const done = new Set(known.map((o) => o.pid));
  const alive = new Set(watched.map((h) => h.pid));
  return tracked
    .filter((t) => !done.has(t.pid))
    .map((t) => ({ ...base(t), status: alive.has(t.pid) ? 'not-recovered' : 'exited', seconds: null }));
}

function base(t: TrackedHolder): Pick<RecoveryObservation, 'pid' | 'comm' | 'unit' | 'predictedErrno'> {
  return { pid: t.pid, comm: t.comm, unit: t.unit, predictedErrno: t.predictedErrno };
}

/**
 * The watch can end early once every holder is accounted for: observed, or gone with no unit
 * that could bring it back (a process outside any service cannot be restarted).
 */
export function recoverySettled(
  tracked: readonly TrackedHolder[],
  known: readonly RecoveryObservation[],
  watched: readonly Holder[],
): boolean {
  const done = new Set(known.map((o) => o.pid));
  const alive = new Set(watched.map((h) => h.pid));
  return tracked.every((t) => done.has(t.pid) || (t.unit === null && !alive.has(t.pid)));
}
