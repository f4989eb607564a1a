import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { basename } from 'node:path';

/**
 * Reading sysfs and procfs files, where a missing file is an answer (the attribute does not
 * exist, the process exited) rather than an error.
 */

const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ESRCH']);

/** True for the errors that mean "not there (any more)": a missing file, an exited process. */
export function isAbsent(err: unknown): boolean {
  return ABSENT.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

/** A file's content trimmed of surrounding whitespace, or null when it does not exist. */
export async function readKernelFile(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if (isAbsent(err)) return null;
    throw err;
  }
}

/** Like readKernelFile, but also null when the attribute cannot be read (EACCES, EIO, EPERM). */
export async function readOptionalKernelFile(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** The last component of a symlink's target (`driver -> ../../bus/pci/drivers/mlx5_core`). */
export async function readLinkName(path: string): Promise<string | null> {
  try {
    return basename(await readlink(path));
  } catch (err) {
    if (isAbsent(err) || (err as NodeJS.ErrnoException).code === 'EINVAL') return null;
    throw err;
  }
}

/** Directory entries sorted by name, or [] when the directory does not exist. */
export async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch (err) {
    if (isAbsent(err)) return [];
    throw err;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (isAbsent(err)) return false;
    throw err;
  }
}
