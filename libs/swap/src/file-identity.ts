import type { DeviceNode, Holder, OpenFile } from '@hotswap/kernel';

/**
 * An open file is identified by device number AND inode (DESIGN.md): a recreated node can
 * reuse both the path and the device number, never the inode.
 */
export type FileIdentity = `${string}/${number}`;

export const identityOf = (file: { rdev: string; ino: number }): FileIdentity => `${file.rdev}/${file.ino}`;

export const identitiesOf = (nodes: readonly DeviceNode[]): Set<FileIdentity> => new Set(nodes.map(identityOf));

/** Files (and mappings) of a holder that refer to one of the given node identities. */
export function filesOn(holder: Holder, ids: ReadonlySet<FileIdentity>): OpenFile[] {
  return holder.files.filter((file) => ids.has(identityOf(file)));
}

export function holdsAny(holder: Holder, ids: ReadonlySet<FileIdentity>): boolean {
  return holder.files.some((f) => ids.has(identityOf(f))) || holder.mappings.some((m) => ids.has(identityOf(m)));
}
