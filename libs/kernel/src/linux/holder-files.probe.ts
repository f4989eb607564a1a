import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { FilesSighting, HolderFilesProbe, OpenFile } from '../kernel.port.js';
import { formatDev } from './dev-number.codec.js';
import { splitDeleted } from './proc-maps.parser.js';
import { statOrNull } from './procfs.io.js';

interface Look {
  readonly pid: number;
  readonly at: number;
  /** fd name -> link text, for the fds that may be on a wanted device. */
  readonly candidates: readonly (readonly [string, string])[];
}

/**
 * The recovery watch's tight look at known holders: which of their fds are on the wanted device
 * numbers, and when that was seen. The fd table of each process is listed and its links read
 * synchronously, and stamped at once: procfs answers these from memory (d_path; no file system
 * is asked, nothing waits on a device or a server), so the stamp is the moment the table was
 * read, not that moment plus thread-pool and event-loop delays. Only the `stat` that tells a
 * link's device number and inode may reach a remote file system: it runs asynchronously, and a
 * link found not to be on a wanted device is not stat'ed again while its fd keeps that link.
 *
 * A link ending in " (deleted)" is a removed node (a zombie, never a new node), and a link that
 * is no path (socket:, pipe:, anon_inode:) is no node: neither is stat'ed. A candidate counts
 * only if its link still reads the same after the stat, so that the stamp belongs to the file
 * the stat saw.
 */
export class ProcHolderFilesProbe implements HolderFilesProbe {
  /** pid -> fd name -> the link it had when its target was found not to be a wanted device. */
  private readonly unwanted = new Map<number, Map<string, string>>();
  private readonly wanted: ReadonlySet<string>;

  constructor(
    private readonly procRoot: string,
    rdevs: readonly string[],
    private readonly now: () => number,
  ) {
    this.wanted = new Set(rdevs);
  }

  async sight(pids: readonly number[]): Promise<FilesSighting[]> {
    const looks: Look[] = [];
    for (const pid of pids) {
      const look = this.look(pid);
      if (look) looks.push(look);
    }
    return Promise.all(looks.map((look) => this.identify(look)));
  }

  /** The process's fd links, read synchronously and stamped; null when it is gone. */
  private look(pid: number): Look | null {
    const fdDir = join(this.procRoot, String(pid), 'fd');
    let names: string[];
    try {
      names = readdirSync(fdDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') return null;
      return { pid, at: this.now(), candidates: [] }; // EACCES: not ours to see
    }
    const unwanted = this.unwanted.get(pid);
    const candidates: (readonly [string, string])[] = [];
    for (const name of names) {
      const link = readlinkIfOpen(join(fdDir, name));
      if (link === null || !link.startsWith('/') || splitDeleted(link).deleted) continue;
      if (unwanted?.get(name) === link) continue;
      candidates.push([name, link]);
    }
    return { pid, at: this.now(), candidates };
  }

  private async identify(look: Look): Promise<FilesSighting> {
    const fdDir = join(this.procRoot, String(look.pid), 'fd');
    const files: OpenFile[] = [];
    await Promise.all(
      look.candidates.map(async ([name, link]) => {
        const path = join(fdDir, name);
        const st = await statOrNull(path);
        if (!st) return; // closed meanwhile
        const rdev = st.isCharacterDevice() || st.isBlockDevice() ? formatDev(st.rdev) : null;
        if (rdev === null || !this.wanted.has(rdev)) {
          this.remember(look.pid, name, link);
          return;
        }
        if (readlinkIfOpen(path) !== link) return; // reopened meanwhile: the next look tells
        files.push({ fd: Number(name), path: link, deleted: false, rdev, ino: st.ino });
      }),
    );
    return { pid: look.pid, at: look.at, files: files.sort((a, b) => a.fd - b.fd) };
  }

  private remember(pid: number, name: string, link: string): void {
    let byName = this.unwanted.get(pid);
    if (!byName) this.unwanted.set(pid, (byName = new Map()));
    byName.set(name, link);
  }
}

function readlinkIfOpen(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null; // closed, or the process is gone
  }
}
