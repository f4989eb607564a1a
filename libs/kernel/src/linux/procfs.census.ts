import { readdir } from 'node:fs/promises';
import type { Holder, WatchScope } from '../kernel.port.js';
import { mapBounded } from './bounded.concurrency.js';
import { CgroupMembersReader } from './cgroup-members.reader.js';
import { DeviceNodeResolver } from './device-node.resolver.js';
import type { NodeStatFn } from './device-node.stat.js';
import type { LinuxRoots } from './linux-roots.js';
import { ProcessHolderReader, ScanContext } from './process-holder.reader.js';

export interface ProcfsCensusOptions {
  /** Processes read at once (each with up to 16 fds in flight). Default 32. */
  readonly concurrency?: number;
}

/**
 * The census of holders from /proc: every process with an open file or a mapping on the device
 * numbers asked about (identity = rdev + inode, DESIGN.md), and the cheap watch of known
 * processes and units afterwards. Async fs calls with bounded concurrency: a host with a
 * thousand processes is read well within a second without blocking the event loop.
 */
export class ProcfsCensus {
  private readonly reader: ProcessHolderReader;
  private readonly units: CgroupMembersReader;
  private readonly concurrency: number;

  constructor(
    private readonly roots: LinuxRoots,
    private readonly statNode: NodeStatFn,
    options: ProcfsCensusOptions = {},
  ) {
    this.units = new CgroupMembersReader(roots);
    this.reader = new ProcessHolderReader(roots.proc, (_pid, identity) => this.units.seen(identity));
    this.concurrency = options.concurrency ?? 32;
  }

  async census(rdevs: readonly string[]): Promise<Holder[]> {
    if (rdevs.length === 0) return [];
    const ctx = this.context(rdevs);
    const pids = await this.pids();
    const holders = await mapBounded(pids, this.concurrency, (pid) => this.reader.read(pid, ctx, false));
    return holders.filter((h): h is Holder => h !== null);
  }

  /**
   * Every live process of the scope (the given pids and the members of the given units), with
   * files and mappings filtered to `rdevs`. Exited processes (gone, or zombies awaiting their
   * parent's wait) are left out.
   */
  async watch(scope: WatchScope, rdevs: readonly string[]): Promise<Holder[]> {
    const pids = new Set(scope.pids.filter((p) => Number.isSafeInteger(p) && p > 0));
    if (scope.units.length > 0) for (const pid of await this.units.members(scope.units)) pids.add(pid);
    const ctx = this.context(rdevs);
    const holders = await mapBounded(
      [...pids].sort((a, b) => a - b),
      this.concurrency,
      async (pid) => {
        const state = await this.reader.state(pid);
        if (state === null || state === 'Z' || state === 'X') return null;
        return this.reader.read(pid, ctx, true);
      },
    );
    return holders.filter((h): h is Holder => h !== null);
  }

  private context(rdevs: readonly string[]): ScanContext {
    return new ScanContext(new Set(rdevs), async () => {
      const nodes = await new DeviceNodeResolver(this.roots.dev, this.statNode).allNodes();
      return nodes.flatMap((n) => (n.stat.rdev ? [{ dev: n.stat.dev, ino: n.stat.ino, rdev: n.stat.rdev }] : []));
    });
  }

  private async pids(): Promise<number[]> {
    return (await readdir(this.roots.proc))
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }
}
