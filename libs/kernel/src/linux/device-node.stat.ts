import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { formatDev, parseRdev } from './dev-number.codec.js';
import { isAbsent } from './kernel-file.reader.js';

/** What the adapter needs to know of a file under /dev. */
export interface NodeStat {
  readonly kind: 'char' | 'block' | 'other';
  /** "MAJ:MIN" of the device it stands for; null for anything that is not a device node. */
  readonly rdev: string | null;
  readonly ino: number;
  /** "MAJ:MIN" of the filesystem holding it (what /proc/PID/maps prints for a mapping of it). */
  readonly dev: string;
}

/** Stats a path under /dev (following symlinks); null when nothing is there. */
export type NodeStatFn = (path: string) => Promise<NodeStat | null>;

/** The real thing: `stat(2)`, rdev decoded from the dev_t. */
export const deviceNodeStat: NodeStatFn = async (path) => {
  try {
    const st = await stat(path);
    const kind = st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'other';
    return { kind, rdev: kind === 'other' ? null : formatDev(st.rdev), ino: st.ino, dev: formatDev(st.dev) };
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
};

/**
 * For captured trees, where git cannot hold device nodes: a REGULAR file whose whole content is
 * "MAJ:MIN" stands for a character device node with that number ("b MAJ:MIN" for a block
 * device); its inode is the regular file's. Real device nodes are stat'ed as usual, so one fake
 * /dev may mix both. Tests pass this as the adapter's `statNode` option.
 */
export const capturedNodeStat: NodeStatFn = async (path) => {
  let st;
  try {
    st = await lstat(path);
    if (st.isSymbolicLink()) return capturedNodeStat(await realpath(path));
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
  if (!st.isFile() || st.size > 32) return deviceNodeStat(path);
  const text = (await readFile(path, 'utf8')).trim();
  const block = text.startsWith('b ');
  const rdev = parseRdev(block ? text.slice(2) : text);
  if (!rdev) return { kind: 'other', rdev: null, ino: st.ino, dev: formatDev(st.dev) };
  return { kind: block ? 'block' : 'char', rdev, ino: st.ino, dev: formatDev(st.dev) };
};
