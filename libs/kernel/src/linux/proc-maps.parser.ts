import { hexDevToRdev } from './dev-number.codec.js';

/** One file-backed line of /proc/PID/maps. */
export interface MapsEntry {
  /** "start-end" in hex, the name of its /proc/PID/map_files entry. */
  readonly range: string;
  /** Device of the FILESYSTEM holding the file ("MAJ:MIN", decimal), not the node's rdev. */
  readonly fsDev: string;
  readonly ino: number;
  /** The path without the " (deleted)" suffix. */
  readonly path: string;
  readonly deleted: boolean;
}

const LINE = /^([0-9a-f]+-[0-9a-f]+) \S+ [0-9a-f]+ ([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$/;
const DELETED = ' (deleted)';
/** "fe:01" -> "254:1": a host has few filesystems, and maps repeat them on every line. */
const devCache = new Map<string, string | null>();

/**
 * Parses /proc/PID/maps, keeping the lines backed by a file (inode != 0) whose path is absolute.
 * Anonymous, [heap], [stack], [vdso] lines are dropped.
 */
export function parseProcMaps(text: string): MapsEntry[] {
  const out: MapsEntry[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || m[3] === '0') continue;
    const raw = m[4] as string;
    if (!raw.startsWith('/')) continue;
    const hex = m[2] as string;
    let fsDev = devCache.get(hex);
    if (fsDev === undefined) {
      fsDev = hexDevToRdev(hex);
      if (devCache.size < 4096) devCache.set(hex, fsDev);
    }
    if (!fsDev) continue;
    const deleted = raw.endsWith(DELETED);
    out.push({
      range: m[1] as string,
      fsDev,
      ino: Number(m[3]),
      path: deleted ? raw.slice(0, -DELETED.length) : raw,
      deleted,
    });
  }
  return out;
}

/** A readlink of /proc/PID/fd/N split into path and the " (deleted)" mark. */
export function splitDeleted(link: string): { path: string; deleted: boolean } {
  return link.endsWith(DELETED)
    ? { path: link.slice(0, -DELETED.length), deleted: true }
    : { path: link, deleted: false };
}
