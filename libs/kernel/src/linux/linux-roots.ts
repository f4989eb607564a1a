/**
 * Where the adapter finds the kernel's interfaces. Production uses the defaults; tests point
 * them at captured trees (sysfs, procfs, a fake /dev) so every reader runs on fixtures.
 */
export interface LinuxRoots {
  /** sysfs mount point, `/sys` by default. */
  readonly sys: string;
  /** procfs mount point, `/proc` by default. */
  readonly proc: string;
  /** devtmpfs mount point, `/dev` by default. */
  readonly dev: string;
}

export const defaultLinuxRoots: LinuxRoots = { sys: '/sys', proc: '/proc', dev: '/dev' };

export function resolveLinuxRoots(roots: Partial<LinuxRoots> = {}): LinuxRoots {
  return { ...defaultLinuxRoots, ...roots };
}
