import { KernelActionError } from '../kernel-action.error.js';
import type { LoadSpec, ModuleTarget } from '../kernel.port.js';
import type { KernelActionRunner } from './kernel-action.runner.js';
import { validateModuleFile, validateModuleName, validateModuleParam } from './kernel-name.validator.js';
import type { LinuxCommands } from './linux-commands.js';
import { modinfoDepends, modinfoField, moduleNameOfFile, normalizeModuleName } from './modinfo.parser.js';
import type { ModinfoReader } from './modinfo.reader.js';
import type { SysfsModuleReader } from './sysfs-module.reader.js';

const SHOW_DEPENDS_TIMEOUT_MS = 10_000;

/**
 * modprobe -r, modprobe and insmod as children (see KernelActionRunner), and what a load spec
 * resolves to (modinfo). Names, files and parameters are validated before any command line.
 */
export class ModuleActions {
  constructor(
    private readonly runner: KernelActionRunner,
    private readonly modinfo: ModinfoReader,
    private readonly modules: SysfsModuleReader,
    private readonly commands: LinuxCommands,
    private readonly kernelRelease: () => Promise<string | null>,
  ) {}

  /** `modprobe -r A B ...` (top of the stack first); modprobe also removes dependencies left unused. */
  async unload(names: readonly string[]): Promise<void> {
    const modules = names.map((n) => normalizeModuleName(validateModuleName(n)));
    if (modules.length === 0) return;
    await this.runner.run({
      what: `unload ${modules.join(' ')}`,
      command: this.commands.modprobe,
      args: ['-r', ...modules],
    });
  }

  /**
   * By name: `modprobe NAME [params]` (a requested version must be what modprobe would load).
   * By file: the dependencies `modinfo` lists that are not loaded yet by `modprobe DEP`, then
   * `insmod FILE [params]` (insmod loads no dependency itself).
   */
  async load(spec: LoadSpec): Promise<void> {
    const params = (spec.params ?? []).map(validateModuleParam);
    if (!('file' in spec)) {
      const module = normalizeModuleName(validateModuleName(spec.module));
      // modprobe is the authority on what a name loads; modinfo is asked only to check a version.
      const target = spec.version === undefined ? null : await this.resolveTarget(spec);
      await this.runner.run({
        what: `load ${module}${target ? versionNote(target) : ''}`,
        command: this.commands.modprobe,
        args: [module, ...params],
      });
      return;
    }
    const target = await this.resolveTarget(spec);
    const fields = await this.modinfo.fields(spec.file);
    for (const dep of modinfoDepends(fields).map((d) => normalizeModuleName(validateModuleName(d)))) {
      if (await this.modules.module(dep)) continue;
      await this.runner.run({
        what: `load ${dep} (needed by ${target.module})`,
        command: this.commands.modprobe,
        args: [dep],
      });
    }
    await this.runner.run({
      what: `load ${target.module}${versionNote(target)} from ${spec.file}`,
      command: this.commands.insmod,
      args: [spec.file, ...params],
    });
  }

  /**
   * By file: `modinfo FILE` (its name must be the module asked for). By name: `modinfo -k
   * RELEASE NAME`, the file modprobe would load for the running kernel; with a version, that
   * file must have it (ENOENT otherwise: modprobe would load something else).
   */
  async resolveTarget(spec: LoadSpec): Promise<ModuleTarget> {
    const module = normalizeModuleName(validateModuleName(spec.module));
    if ('file' in spec) {
      const file = validateModuleFile(spec.file);
      const fields = await this.modinfo.fields(file);
      const name = normalizeModuleName(modinfoField(fields, 'name') ?? moduleNameOfFile(file));
      if (name !== module) throw new KernelActionError('EINVAL', `${file} is module ${name}, not ${module}`);
      return { module, file, version: modinfoField(fields, 'version'), srcversion: modinfoField(fields, 'srcversion') };
    }
    const release = (await this.kernelRelease()) ?? undefined;
    const fields = await this.modinfo.fields(module, release);
    const file = modinfoField(fields, 'filename');
    if (file === null)
      throw new KernelActionError('ENOENT', `modinfo ${module}: no file for kernel ${release ?? '(running)'}`);
    const version = modinfoField(fields, 'version');
    if ('version' in spec && spec.version !== undefined && version !== spec.version)
      throw new KernelActionError(
        'ENOENT',
        `modprobe ${module} would load ${file} (version ${version ?? 'none'}), not version ${spec.version}: ` +
          `install that version under /lib/modules/${release ?? '$(uname -r)'} (and run depmod), or give its file`,
      );
    return { module, file, version, srcversion: modinfoField(fields, 'srcversion') };
  }

  /** `modprobe -n --show-depends NAME`: what a load would do, without doing it (preflight). */
  async showDepends(name: string): Promise<string[]> {
    const module = normalizeModuleName(validateModuleName(name));
    const { stdout } = await this.runner.run({
      what: `modprobe --show-depends ${module}`,
      command: this.commands.modprobe,
      args: ['-n', '--show-depends', module],
      readTimeoutMs: SHOW_DEPENDS_TIMEOUT_MS,
    });
    return stdout.split('\n').filter((l) => l.trim() !== '');
  }
}

function versionNote(target: ModuleTarget): string {
  return target.version ? ` ${target.version}` : '';
}
