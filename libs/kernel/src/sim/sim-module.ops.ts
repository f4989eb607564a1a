import { KernelActionError } from '../kernel-action.error.js';
import type { LoadSpec } from '../kernel.port.js';
import type { SimDeviceOps } from './sim-device.ops.js';
import type { SimKernelState } from './sim-kernel.state.js';
import type { ModuleFileInfo } from './sim-module.catalog.js';

/** modprobe, insmod and modprobe -r against the simulated module table. */
export class SimModuleOps {
  constructor(
    private readonly s: SimKernelState,
    private readonly devices: SimDeviceOps,
  ) {}

  /**
   * By name: like modprobe (already loaded is success, missing dependencies load first).
   * By file: like insmod, so another file of a loaded module is EEXIST.
   */
  async load(spec: LoadSpec): Promise<void> {
    const target = this.s.catalog.resolve(spec);
    const present = this.s.modules.get(target.module);
    if ('file' in spec && present && present.state !== 'going' && present.file !== target.file)
      throw new KernelActionError('EEXIST', `insmod: ERROR: could not insert module ${spec.file}: File exists`);
    await this.ensureLoaded(target, spec.params ?? [], []);
  }

  /**
   * `modprobe -r a b`: each in order, stopping at the first refusal; then the dependencies of
   * the removed ones that became unused (refcnt 0), like modprobe -r does.
   */
  async unload(names: readonly string[]): Promise<void> {
    const removed = new Set<string>();
    const leftovers: string[] = [];
    for (const name of names) {
      if (removed.has(name)) continue;
      leftovers.push(...(await this.unloadOne(name)));
      removed.add(name);
    }
    while (leftovers.length > 0) {
      const dep = leftovers.shift() as string;
      const module = this.s.modules.get(dep);
      if (!module || module.builtin || module.state !== 'live' || module.refcnt > 0) continue;
      try {
        leftovers.push(...(await this.unloadOne(dep)));
      } catch (err) {
        if (!(err instanceof KernelActionError)) throw err; // modprobe -r ignores dependencies it cannot remove
      }
    }
  }

  private async ensureLoaded(target: ModuleFileInfo, params: readonly string[], chain: string[]): Promise<void> {
    const name = target.module;
    if (chain.includes(name))
      throw new KernelActionError('EINVAL', `dependency cycle: ${[...chain, name].join(' -> ')}`);
    for (let present = this.s.modules.get(name); present; present = this.s.modules.get(name)) {
      if (present.state === 'live') return;
      await present.transition; // coming: it may become live; going: load again once it is gone
    }
    // Dependencies first. A concurrent modprobe -r may start removing one meanwhile: go again.
    while (!target.dependsOn.every((dep) => this.s.modules.isLive(dep))) {
      for (const dep of target.dependsOn) {
        await this.ensureLoaded(this.s.catalog.resolve({ module: dep }), [], [...chain, name]);
      }
    }
    if (this.s.modules.get(name)) return this.ensureLoaded(target, params, chain); // a concurrent load won

    const module = this.s.modules.add(target, params, 'coming');
    let settle = () => undefined as void;
    module.transition = new Promise((resolve) => (settle = resolve));
    const at = { module: name, version: target.version, path: target.file };
    try {
      await this.s.sleep(this.s.timing.loadMs);
      if (this.s.faults.takeLoadFailure(name, target.file)) {
        this.s.modules.remove(name);
        this.s.log.record('load-failed', { ...at, errno: 'EIO', detail: 'injected load-fails fault' });
        throw new KernelActionError(
          'EIO',
          `insmod ${target.file}: could not insert module ${name}: Input/output error`,
        );
      }
      module.state = 'live';
      const detail = `version ${target.version ?? '(none)'} from ${target.file}${params.length > 0 ? ` ${params.join(' ')}` : ''}`;
      this.s.log.record('load', { ...at, detail });
    } finally {
      module.transition = null;
      settle();
    }
    // Module init registered its drivers: they probe their devices before modprobe returns.
    await this.devices.autoProbe(name);
  }

  /** Removes one module; returns its dependencies (candidates for modprobe -r's cleanup). */
  private async unloadOne(name: string): Promise<readonly string[]> {
    const module = this.s.modules.get(name);
    const refuse = (code: 'ENOENT' | 'EINVAL' | 'EBUSY' | 'EIO', message: string, detail: string) => {
      this.s.log.record('unload-refused', { module: name, errno: code, detail });
      return new KernelActionError(code, message);
    };
    if (!module) throw refuse('ENOENT', `modprobe: FATAL: Module ${name} is not currently loaded`, 'not loaded');
    if (module.builtin) throw refuse('EINVAL', `modprobe: FATAL: Module ${name} is builtin`, 'builtin');
    if (module.state !== 'live')
      throw refuse('EBUSY', `Module ${name} is ${module.state === 'coming' ? 'loading' : 'unloading'}`, module.state);
    if (this.s.faults.takeUnloadFailure(name))
      throw refuse('EIO', `rmmod: ERROR: could not remove module ${name}: Input/output error`, 'injected fault');
    if (module.refcnt > 0) {
      const holders = this.s.modules.holdersOf(name);
      const by = holders.length > 0 ? ` by: ${holders.join(' ')}` : '';
      throw refuse('EBUSY', `modprobe: FATAL: Module ${name} is in use${by}`, `refcnt ${module.refcnt}`);
    }
    module.state = 'going'; // from here try_module_get fails: no new file can pin it
    let settle = () => undefined as void;
    module.transition = new Promise((resolve) => (settle = resolve));
    this.s.log.record('unload-start', { module: name, version: module.version });
    try {
      await this.devices.unbindDevicesOf(name);
      await this.s.sleep(this.s.timing.unloadMs);
      this.s.modules.remove(name);
      this.s.log.record('unload', { module: name, version: module.version });
    } finally {
      module.transition = null;
      settle();
    }
    return module.dependsOn;
  }
}
