import { lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceMapping, Holder, OpenFile } from '../kernel.port.js';
import { mapBounded } from './bounded.concurrency.js';
import { parseCgroup, type CgroupIdentity } from './cgroup.parser.js';
import { formatDev } from './dev-number.codec.js';
import { isAbsent } from './kernel-file.reader.js';
import { parseProcMaps, splitDeleted, type MapsEntry } from './proc-maps.parser.js';
import { readdirOrCode, readlinkOrNull, readProcText, statOrNull } from './procfs.io.js';

/** fds of one process looked at concurrently. */
const FD_CONCURRENCY = 16;

/**
 * State shared by the reads of one census or watch: the device numbers asked about, and what
 * was learnt about mapped files (a library mapped by 900 processes is stat'ed once).
 */
export class ScanContext {
  /** "fsDev/ino" of a mapped file -> its rdev (null: not a device node), while being found out... */
  readonly mapped = new Map<string, Promise<string | null | undefined>>();
  /** ...and once known. */
  readonly mappedRdev = new Map<string, string | null>();
  /** "fsDev/ino" -> rdev of device nodes met through fds or the dev root (map_files fallback). */
  readonly knownNodes = new Map<string, string>();
  /** Set once /proc/PID/map_files is refused or absent (no CAP_SYS_ADMIN, old kernel): match inodes instead. */
  mapFilesDenied = false;
  private devScan: Promise<void> | null = null;

  constructor(
    readonly wanted: ReadonlySet<string>,
    private readonly scanDevRoot: () => Promise<readonly { dev: string; ino: number; rdev: string }[]>,
  ) {}

  learn(fsDev: string, ino: number, rdev: string): void {
    this.knownNodes.set(`${fsDev}/${ino}`, rdev);
  }

  async nodeByInode(fsDev: string, ino: number): Promise<string | null> {
    this.devScan ??= this.scanDevRoot().then((nodes) => nodes.forEach((n) => this.learn(n.dev, n.ino, n.rdev)));
    await this.devScan;
    return this.knownNodes.get(`${fsDev}/${ino}`) ?? null;
  }
}

/** A process's cgroup as read, kept so unit membership can be found again later. */
export type CgroupSeen = (pid: number, identity: CgroupIdentity) => void;

/**
 * Reads one process under /proc for a census or a watch. Processes and fds vanish at any time:
 * ENOENT/ESRCH mean "gone" and are never thrown; a process gone mid-read yields null.
 *
 * Files: `stat` of every /proc/PID/fd/N (following the link) for the device number (st_rdev)
 * and inode, then `readlink` only for the files on a wanted device (path and " (deleted)").
 * Mappings: /proc/PID/maps lines name the filesystem's device and the inode, not the rdev, so
 * each distinct mapped file is stat'ed once through /proc/PID/map_files/RANGE; where that is
 * refused or absent, the inode is matched against device nodes known from fds and the dev root.
 */
export class ProcessHolderReader {
  constructor(
    private readonly procRoot: string,
    private readonly onCgroup: CgroupSeen,
  ) {}

  /**
   * The process as a Holder with its files and mappings on `ctx.wanted`, or null when it is
   * gone (or, unless `keepEmpty`, when it holds nothing wanted).
   */
  async read(pid: number, ctx: ScanContext, keepEmpty: boolean): Promise<Holder | null> {
    const base = join(this.procRoot, String(pid));
    const files = await this.files(base, ctx);
    if (files === null) return null;
    const mappings = await this.mappings(base, ctx);
    if (!keepEmpty && files.length === 0 && mappings.length === 0) return null;
    const comm = await readProcText(join(base, 'comm'));
    if (comm === null) return null;
    const cgroup = await readProcText(join(base, 'cgroup'));
    const identity = parseCgroup(cgroup ?? '');
    this.onCgroup(pid, identity);
    return { pid, comm: comm.trim(), unit: identity.unit, files, mappings };
  }

  /** The process's state letter from /proc/PID/stat (R, S, D, Z...), null when it is gone. */
  async state(pid: number): Promise<string | null> {
    const text = await readProcText(join(this.procRoot, String(pid), 'stat'));
    if (text === null) return null;
    return text.slice(text.lastIndexOf(')') + 1).trim()[0] ?? null; // "PID (comm) S ...": comm may hold ')'
  }

  private async files(base: string, ctx: ScanContext): Promise<OpenFile[] | null> {
    const fdDir = join(base, 'fd');
    const names = await readdirOrCode(fdDir);
    if (typeof names === 'string') return names === 'ENOENT' || names === 'ESRCH' ? null : []; // EACCES: not ours to see
    const found: OpenFile[] = [];
    const each = async (name: string): Promise<void> => {
      const path = join(fdDir, name);
      const st = await statOrNull(path);
      if (!st || !(st.isCharacterDevice() || st.isBlockDevice())) return;
      const rdev = formatDev(st.rdev);
      ctx.learn(formatDev(st.dev), st.ino, rdev);
      if (!ctx.wanted.has(rdev)) return;
      const link = await readlinkOrNull(path);
      if (link === null) return; // closed meanwhile
      found.push({ fd: Number(name), ...splitDeleted(link), rdev, ino: st.ino });
    };
    if (names.length <= FD_CONCURRENCY) await Promise.all(names.map(each));
    else await mapBounded(names, FD_CONCURRENCY, each);
    return found.sort((a, b) => a.fd - b.fd);
  }

  private async mappings(base: string, ctx: ScanContext): Promise<DeviceMapping[]> {
    const text = await readProcText(join(base, 'maps'));
    if (text === null) return [];
    const found: DeviceMapping[] = [];
    for (const entry of parseProcMaps(text)) {
      // Most lines are libraries already stat'ed for another process: answered without an await.
      const known = ctx.mappedRdev.get(`${entry.fsDev}/${entry.ino}`);
      const rdev = known !== undefined ? known : await this.rdevOfMapping(base, entry, ctx);
      if (rdev !== null && ctx.wanted.has(rdev))
        found.push({ path: entry.path, deleted: entry.deleted, rdev, ino: entry.ino });
    }
    return found;
  }

  private async rdevOfMapping(base: string, entry: MapsEntry, ctx: ScanContext): Promise<string | null> {
    const key = `${entry.fsDev}/${entry.ino}`;
    if (!ctx.mapFilesDenied) {
      let pending = ctx.mapped.get(key);
      if (!pending) {
        pending = this.statMapFile(base, entry.range, ctx);
        ctx.mapped.set(key, pending);
      }
      const rdev = await pending;
      if (rdev === undefined) {
        ctx.mapped.delete(key); // gone or refused: unknown, not "no device"
      } else {
        ctx.mappedRdev.set(key, rdev);
        return rdev;
      }
      if (!ctx.mapFilesDenied) return null;
    }
    return ctx.nodeByInode(entry.fsDev, entry.ino);
  }

  /** rdev of a mapped file; null when it is no device node; undefined when it cannot be told. */
  private async statMapFile(base: string, range: string, ctx: ScanContext): Promise<string | null | undefined> {
    try {
      const st = await stat(join(base, 'map_files', range));
      return st.isCharacterDevice() || st.isBlockDevice() ? formatDev(st.rdev) : null;
    } catch (err) {
      if (!isAbsent(err) || !(await hasMapFiles(base))) ctx.mapFilesDenied = true;
      return undefined;
    }
  }
}

/**
 * Whether the process has a map_files directory: missing without CONFIG_CHECKPOINT_RESTORE on
 * kernels before 4.3. A missing entry in an existing directory is a mapping that just went away.
 */
async function hasMapFiles(base: string): Promise<boolean> {
  try {
    await lstat(join(base, 'map_files'));
    return true;
  } catch (err) {
    return (
      !isAbsent(err) ||
      !(await lstat(base).then(
        () => true,
        () => false,
      ))
    );
  }
}
