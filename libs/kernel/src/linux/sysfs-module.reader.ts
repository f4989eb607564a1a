import { join } from 'node:path';
import type { LoadedModule, ModuleUse } from '../kernel.port.js';
import { exists, listDir, readKernelFile, readOptionalKernelFile } from './kernel-file.reader.js';
import { validateModuleName } from './kernel-name.validator.js';
import type { LinuxRoots } from './linux-roots.js';
import { modinfoField, normalizeModuleName } from './modinfo.parser.js';
import type { ModinfoReader } from './modinfo.reader.js';
import { parseProcModules, type ProcModuleEntry } from './proc-modules.parser.js';

/**
 * Modules from `SYS/module/NAME/{initstate,refcnt,holders/,version,srcversion,parameters/}` and
 * `PROC/modules`. A directory under SYS/module without `initstate` is a built-in module (it only
 * shows because it has parameters or a version); "[permanent]" in /proc/modules is a module
 * without an exit function. Neither can be unloaded. The file comes from `modinfo NAME` (best
 * effort), and only when its srcversion is the loaded one's: a newer file installed since
 * load time is not the file the module was loaded from.
 */
export class SysfsModuleReader {
  /**
   * modinfo is a process per call (0.3-1 s under emulation) and a swap polls module() while
   * zombies close, so the file found for a (name, version, srcversion) is remembered: loaded
   * from another file, a module shows another srcversion (a hash of its sources) or version.
   */
  private readonly files = new Map<string, string | null>();

  constructor(
    private readonly roots: LinuxRoots,
    private readonly modinfo: ModinfoReader | null,
  ) {}

  /** /proc/modules parsed; null when the kernel has no loadable modules (no such file). */
  async procModules(): Promise<ProcModuleEntry[] | null> {
    const text = await readKernelFile(join(this.roots.proc, 'modules'));
    return text === null ? null : parseProcModules(text);
  }

  /**
   * Refcount and users of each module from one read of /proc/modules (the same counts as
   * SYS/module/NAME/refcnt and holders/); a module it does not list is not loaded (or built in,
   * which no swap unloads).
   */
  async use(requested: readonly string[]): Promise<Record<string, ModuleUse | null>> {
    const names = requested.map((name) => normalizeModuleName(validateModuleName(name)));
    const entries = (await this.procModules()) ?? [];
    return Object.fromEntries(
      requested.map((name, i) => {
        const entry = entries.find((e) => e.name === names[i]);
        return [name, entry ? { refcnt: entry.refcnt ?? 0, holders: [...entry.usedBy].sort() } : null];
      }),
    );
  }

  /** Names of the loaded (not built-in) modules, as /proc/modules lists them. */
  async loadedModules(): Promise<string[]> {
    return ((await this.procModules()) ?? []).map((m) => m.name).sort();
  }

  async module(requested: string): Promise<LoadedModule | null> {
    const name = normalizeModuleName(validateModuleName(requested));
    const dir = join(this.roots.sys, 'module', name);
    const entries = await this.procModules();
    const entry = entries?.find((e) => e.name === name);
    const hasDir = await exists(dir);
    if (!hasDir && !entry) return null;

    const initstate = await readKernelFile(join(dir, 'initstate'));
    const builtin = !entry && initstate === null;
    const refcntText = await readKernelFile(join(dir, 'refcnt'));
    const refcnt = refcntText !== null ? Number(refcntText) : (entry?.refcnt ?? 0);
    const holders = [...new Set([...(await listDir(join(dir, 'holders'))), ...(entry?.usedBy ?? [])])].sort();
    const dependsOn = (entries ?? [])
      .filter((e) => e.usedBy.includes(name))
      .map((e) => e.name)
      .sort();
    const version = await readKernelFile(join(dir, 'version'));
    const srcversion = await readKernelFile(join(dir, 'srcversion'));
    const unloadable = !builtin && !entry?.permanent && entry?.refcnt !== null;
    return {
      name,
      version,
      srcversion,
      refcnt: Number.isFinite(refcnt) ? refcnt : 0,
      holders,
      dependsOn,
      unloadable,
      file: builtin ? null : await this.cachedFileOf(name, version, srcversion),
      params: await readParams(join(dir, 'parameters')),
    };
  }

  private async cachedFileOf(name: string, version: string | null, srcversion: string | null): Promise<string | null> {
    const key = JSON.stringify([name, version, srcversion]);
    if (!this.files.has(key)) this.files.set(key, await this.fileOf(name, srcversion));
    return this.files.get(key) ?? null;
  }

  private async fileOf(name: string, srcversion: string | null): Promise<string | null> {
    const fields = await this.modinfo?.tryFields(name);
    const file = fields ? modinfoField(fields, 'filename') : null;
    if (!fields || !file || file === '(builtin)') return null;
    const fileSrcversion = modinfoField(fields, 'srcversion');
    if (srcversion !== null && fileSrcversion !== null && fileSrcversion !== srcversion) return null;
    return file;
  }
}

/**
 * Current parameter values as `name=value`, to reload the module identically. Unreadable ones,
 * unset strings ("(null)") and values that cannot be passed back safely are left out; values
 * with spaces are quoted, as the kernel's parse_args expects.
 */
async function readParams(dir: string): Promise<string[]> {
  const params: string[] = [];
  for (const name of await listDir(dir)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) continue;
    const value = await readOptionalKernelFile(join(dir, name));
    if (value === null || value === '(null)') continue;
    // eslint-disable-next-line no-control-regex
    if (/["\x00-\x1f\x7f]/.test(value)) continue;
    params.push(/\s/.test(value) ? `${name}="${value}"` : `${name}=${value}`);
  }
  return params;
}
