/** One line of /proc/modules. */
export interface ProcModuleEntry {
  readonly name: string;
  readonly size: number;
  /** null when the kernel has no module unloading (CONFIG_MODULE_UNLOAD=n prints "-"). */
  readonly refcnt: number | null;
  /** The "Used by" column: modules that depend on this one (its holders). */
  readonly usedBy: readonly string[];
  /** "[permanent]": it has an init but no exit function, so it can never be unloaded. */
  readonly permanent: boolean;
  readonly state: 'live' | 'loading' | 'unloading';
  /** Taint letters of the module, e.g. "OE" from "(OE)"; empty when none. */
  readonly taints: string;
}

/**
 * Parses /proc/modules (kernel/module/procfs.c m_show):
 *   "NAME SIZE REFCNT USED_BY, STATE 0xADDR [(TAINTS)]"
 * where USED_BY is "a,b," (each followed by a comma), "[permanent]," may be among them, and "-"
 * means none. Lines that do not parse are skipped.
 */
export function parseProcModules(text: string): ProcModuleEntry[] {
  const out: ProcModuleEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\d+) (-?\d+|-) (\S+) (Live|Loading|Unloading)(?: (0x[0-9a-f]+))?(?: \(([A-Z]+)\))?\s*$/.exec(
      line.trim(),
    );
    if (!m) continue;
    const [, name, size, refcnt, usedBy, state, , taints] = m as unknown as string[];
    const users = usedBy === '-' ? [] : (usedBy as string).split(',').filter((u) => u !== '');
    out.push({
      name: name as string,
      size: Number(size),
      refcnt: refcnt === '-' ? null : Number(refcnt),
      usedBy: users.filter((u) => u !== '[permanent]'),
      permanent: users.includes('[permanent]'),
      state: (state as string).toLowerCase() as ProcModuleEntry['state'],
      taints: taints ?? '',
    });
  }
  return out;
}
