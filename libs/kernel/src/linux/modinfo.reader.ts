import { KernelActionError } from '../kernel-action.error.js';
import type { KernelActionRunner } from './kernel-action.runner.js';
import { parseModinfo, type ModinfoFields } from './modinfo.parser.js';

const MODINFO_TIMEOUT_MS = 10_000;

/** Runs `modinfo` (in a child, with a timeout: it only reads files) and parses its answer. */
export class ModinfoReader {
  constructor(
    private readonly runner: KernelActionRunner,
    private readonly modinfo: string,
  ) {}

  /**
   * Fields of a module file, or of the module `modprobe` would load by that name for the given
   * kernel release (`modinfo -k RELEASE NAME`). Rejects with KernelActionError: ENOENT when
   * there is no such module or file, EIO when modinfo cannot run.
   */
  async fields(nameOrFile: string, release?: string): Promise<ModinfoFields> {
    const args = release === undefined ? [nameOrFile] : ['-k', release, nameOrFile];
    const { stdout } = await this.runner.run({
      what: `modinfo ${nameOrFile}`,
      command: this.modinfo,
      args, // names and files are validated before they get here: none starts with '-'
      readTimeoutMs: MODINFO_TIMEOUT_MS,
    });
    const fields = parseModinfo(stdout);
    if (fields.size === 0)
      throw new KernelActionError('ENOENT', `modinfo ${nameOrFile}: printed nothing (no such module or file?)`);
    return fields;
  }

  /** Like fields(), but null instead of an error (best effort: module() must not fail on it). */
  async tryFields(nameOrFile: string, release?: string): Promise<ModinfoFields | null> {
    try {
      return await this.fields(nameOrFile, release);
    } catch {
      return null;
    }
  }
}
