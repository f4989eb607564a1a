import { chmod, copyFile, mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sharedLibraries } from './elf-libraries.js';

/** Copies host files into a staging root at the same absolute paths (or at `as`). */
export class StageCopier {
  private readonly copied = new Set<string>();

  constructor(readonly root: string) {}

  /** Host path -> the same path under the staging root. */
  at(path: string): string {
    return join(this.root, path);
  }

  async file(source: string, as: string = source, mode?: number): Promise<void> {
    if (this.copied.has(as)) return;
    await mkdir(dirname(this.at(as)), { recursive: true });
    await copyFile(await realpath(source), this.at(as));
    if (mode !== undefined) await chmod(this.at(as), mode);
    this.copied.add(as);
  }

  /** An ELF binary and every library `ldd` lists for it (the loader included), by absolute path. */
  async executable(source: string, as: string = source): Promise<void> {
    await this.file(source, as, 0o755);
    for (const library of await sharedLibraries(source)) await this.file(library);
  }

  async link(target: string, as: string): Promise<void> {
    await mkdir(dirname(this.at(as)), { recursive: true });
    await symlink(target, this.at(as));
  }

  async text(as: string, content: string, mode = 0o644): Promise<void> {
    await mkdir(dirname(this.at(as)), { recursive: true });
    await writeFile(this.at(as), content, { mode });
  }
}
