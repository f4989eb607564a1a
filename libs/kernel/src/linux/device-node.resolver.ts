import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceNode } from '../kernel.port.js';
import type { NodeStat, NodeStatFn } from './device-node.stat.js';
import { isAbsent } from './kernel-file.reader.js';

/** A `dev` attribute found in sysfs: the number, and the name udev/devtmpfs gives its node. */
export interface SysfsNodeEntry {
  readonly rdev: string;
  readonly kind: 'char' | 'block';
  /** `DEVNAME=` of the node's `uevent`, relative to /dev (e.g. "infiniband/uverbs0"); null if absent. */
  readonly devname: string | null;
}

/** A device node found by scanning the dev root. */
export interface ScannedNode {
  readonly path: string;
  readonly stat: NodeStat;
}

/** Directories of /dev that never hold driver nodes worth a scan. */
const SKIP_DIRS = new Set(['pts', 'shm', 'mqueue', 'hugepages', 'fd']);
const MAX_SCAN_DEPTH = 4;

/**
 * Finds the node under the dev root that stands for a device number. In order: the uevent's
 * DEVNAME (what devtmpfs creates), udev's `char/MAJ:MIN` or `block/MAJ:MIN` link, then a scan
 * of the dev root (once per resolver; create one resolver per question). A node only counts
 * when its stat shows the same kind and number: a stale or foreign file is not the device.
 */
export class DeviceNodeResolver {
  private scan: Promise<Map<string, ScannedNode>> | null = null;

  constructor(
    private readonly devRoot: string,
    private readonly statNode: NodeStatFn,
  ) {}

  async resolve(entry: SysfsNodeEntry): Promise<DeviceNode | null> {
    const candidates: string[] = [];
    if (entry.devname && isSafeRelative(entry.devname)) candidates.push(join(this.devRoot, entry.devname));
    candidates.push(join(this.devRoot, entry.kind, entry.rdev));
    for (const path of candidates) {
      const found = await this.check(path, entry);
      if (found) return found;
    }
    const scanned = (await this.scanned()).get(`${entry.kind} ${entry.rdev}`);
    return scanned ? this.check(scanned.path, entry) : null;
  }

  /** Every device node under the dev root (first path per kind and number), from one scan. */
  async allNodes(): Promise<ScannedNode[]> {
    return [...(await this.scanned()).values()];
  }

  private async check(path: string, entry: SysfsNodeEntry): Promise<DeviceNode | null> {
    let st: NodeStat | null;
    let real = path;
    try {
      st = await this.statNode(path);
      if (st && path.startsWith(join(this.devRoot, entry.kind) + '/')) real = await realpath(path);
    } catch (err) {
      if (isAbsent(err)) return null;
      throw err;
    }
    if (!st || st.kind !== entry.kind || st.rdev !== entry.rdev) return null;
    return { path: real, rdev: entry.rdev, ino: st.ino };
  }

  private scanned(): Promise<Map<string, ScannedNode>> {
    this.scan ??= this.walk(this.devRoot, 0, new Map());
    return this.scan;
  }

  private async walk(dir: string, depth: number, into: Map<string, ScannedNode>): Promise<Map<string, ScannedNode>> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return into;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < MAX_SCAN_DEPTH && !(depth === 0 && SKIP_DIRS.has(e.name))) await this.walk(path, depth + 1, into);
        continue;
      }
      if (e.isSymbolicLink()) continue;
      const st = await this.statNode(path).catch(() => null);
      if (st?.rdev && st.kind !== 'other') {
        const key = `${st.kind} ${st.rdev}`;
        if (!into.has(key)) into.set(key, { path, stat: st });
      }
    }
    return into;
  }
}

function isSafeRelative(devname: string): boolean {
  return !devname.startsWith('/') && !devname.split('/').some((p) => p === '..' || p === '');
}
