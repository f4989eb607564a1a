import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mapBounded } from './bounded.concurrency.js';
import { parseCgroup, type CgroupIdentity } from './cgroup.parser.js';
import { readProcText } from './procfs.io.js';
import type { LinuxRoots } from './linux-roots.js';

const MAX_DEPTH = 8;
const SCAN_CONCURRENCY = 32;

/**
 * Finds the processes of units (systemd units or containers, as Holder.unit names them). A unit
 * whose cgroup directory was seen before is read from `cgroup.procs` under the cgroup mount
 * (v2 at SYS/fs/cgroup, hybrid `unified/`, v1 `systemd/`), recursively; otherwise every
 * process's /proc/PID/cgroup is read once.
 */
export class CgroupMembersReader {
  /** unit -> cgroup paths it was seen at. */
  private readonly paths = new Map<string, Set<string>>();

  constructor(private readonly roots: LinuxRoots) {}

  /** Remembers where a process's unit lives (called for every cgroup the census reads). */
  seen(identity: CgroupIdentity): void {
    if (identity.unit === null || identity.path === null) return;
    const set = this.paths.get(identity.unit) ?? new Set<string>();
    set.add(identity.path);
    this.paths.set(identity.unit, set);
  }

  async members(units: readonly string[]): Promise<Set<number>> {
    const pids = new Set<number>();
    const unresolved: string[] = [];
    for (const unit of new Set(units)) {
      let found = false;
      for (const path of this.paths.get(unit) ?? []) {
        const dir = await this.cgroupDir(path);
        if (!dir) continue;
        found = true;
        await this.collect(dir, 0, pids);
      }
      if (!found) unresolved.push(unit);
    }
    if (unresolved.length > 0) for (const pid of await this.scan(new Set(unresolved))) pids.add(pid);
    return pids;
  }

  private async cgroupDir(path: string): Promise<string | null> {
    if (path.split('/').includes('..')) return null;
    for (const mount of ['', 'unified', 'systemd']) {
      const dir = join(this.roots.sys, 'fs', 'cgroup', mount, path);
      try {
        await readFile(join(dir, 'cgroup.procs'), 'utf8');
        return dir;
      } catch {
        // not this hierarchy
      }
    }
    return null;
  }

  private async collect(dir: string, depth: number, into: Set<number>): Promise<void> {
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (/^\d+$/.test(line.trim())) into.add(Number(line));
    if (depth >= MAX_DEPTH) return;
    const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const child of children) if (child.isDirectory()) await this.collect(join(dir, child.name), depth + 1, into);
  }

  private async scan(units: ReadonlySet<string>): Promise<number[]> {
    const pids = (await readdir(this.roots.proc)).filter((n) => /^\d+$/.test(n)).map(Number);
    const hits = await mapBounded(pids, SCAN_CONCURRENCY, async (pid) => {
      const text = await readProcText(join(this.roots.proc, String(pid), 'cgroup'));
      if (text === null) return null;
      const identity = parseCgroup(text);
      this.seen(identity);
      return identity.unit !== null && units.has(identity.unit) ? pid : null;
    });
    return hits.filter((p): p is number => p !== null);
  }
}
