import { KernelActionError } from '../kernel-action.error.js';
import type {
  BoundDevice,
  ClassifiedNode,
  DeviceQuery,
  DeviceRef,
  Holder,
  KernelPort,
  LoadedModule,
  LoadSpec,
  ModuleTarget,
  ModuleUse,
  WatchScope,
} from '../kernel.port.js';
import { moduleUseOf } from './module-use.of.js';
import type { SimActionEntry } from './sim-action.log.js';
import { SimDeviceOps } from './sim-device.ops.js';
import { SimFileOps } from './sim-file.ops.js';
import { SimKernelState } from './sim-kernel.state.js';
import { SimModuleOps } from './sim-module.ops.js';
import { SimProcessBehaviour } from './sim-process.behaviour.js';
import type { SimProcess } from './sim-process.table.js';
import type { SimScenario } from './sim-scenario.schema.js';
import { realClock, type SimClock } from './sim.clock.js';
import { takeSnapshot, type SimSnapshot } from './sim.snapshot.js';

export interface SimKernelOptions {
  /** Real time by default; tests pass a FakeClock. */
  readonly clock?: SimClock;
}

/**
 * The simulated kernel, in memory, implementing the kernel port directly. The sim host
 * process serves one over a socket; tests of other libraries may also use one in-process.
 */
export class SimKernel implements KernelPort {
  private readonly s: SimKernelState;
  private readonly files: SimFileOps;
  private readonly behaviour: SimProcessBehaviour;
  private readonly deviceOps: SimDeviceOps;
  private readonly moduleOps: SimModuleOps;
  private readonly stopped: Promise<never>;
  private stop!: (reason: Error) => void;

  constructor(scenario: SimScenario, options: SimKernelOptions = {}) {
    this.s = new SimKernelState(scenario, options.clock ?? realClock);
    this.files = new SimFileOps(this.s);
    this.behaviour = new SimProcessBehaviour(this.s, this.files);
    this.deviceOps = new SimDeviceOps(this.s, this.files, this.behaviour);
    this.moduleOps = new SimModuleOps(this.s, this.deviceOps);
    // Calls still in the kernel when the host stops (a hung unbind) are rejected with this.
    this.stopped = new Promise<never>((_, reject) => (this.stop = reject));
    this.stopped.catch(() => undefined);
    this.boot(scenario);
  }

  /** Simulator bugs seen in background work; always empty unless the simulator is wrong. */
  get internalErrors(): readonly unknown[] {
    return this.s.internalErrors;
  }

  async findDevices(query: DeviceQuery): Promise<BoundDevice[]> {
    return this.s.devices.devices
      .filter((d) => d.bus === query.bus && d.driver === query.driver)
      .filter((d) => query.vendor === undefined || d.vendor === query.vendor)
      .filter((d) => query.device === undefined || d.device === query.device)
      .map((d) => this.s.devices.view(d));
  }

  async device(ref: DeviceRef): Promise<BoundDevice | null> {
    const device = this.s.devices.find(ref);
    return device ? this.s.devices.view(device) : null;
  }

  /** The device's node (it is created anew on each bind) with the class the scenario gives it. */
  async classifyNodes(ref: DeviceRef): Promise<ClassifiedNode[]> {
    const device = this.s.devices.find(ref);
    return device ? [{ path: device.nodePath, rdev: device.rdev, sysfsClass: device.sysfsClass }] : [];
  }

  async module(name: string): Promise<LoadedModule | null> {
    const module = this.s.modules.get(name);
    return module ? this.s.modules.view(module) : null;
  }

  async moduleUse(names: readonly string[]): Promise<Record<string, ModuleUse | null>> {
    return moduleUseOf(names, await Promise.all(names.map((name) => this.module(name))));
  }

  async resolveTarget(spec: LoadSpec): Promise<ModuleTarget> {
    const { module, file, version, srcversion } = this.s.catalog.resolve(spec);
    return { module, file, version, srcversion };
  }

  async census(rdevs: readonly string[]): Promise<Holder[]> {
    const wanted = new Set(rdevs);
    return this.s.processes
      .live()
      .map((p) => this.s.processes.holderView(p, wanted))
      .filter((h) => h.files.length > 0 || h.mappings.length > 0);
  }

  async watch(scope: WatchScope, rdevs: readonly string[]): Promise<Holder[]> {
    const wanted = new Set(rdevs);
    return this.s.processes
      .live()
      .filter((p) => scope.pids.includes(p.pid) || (p.unit !== null && scope.units.includes(p.unit)))
      .map((p) => this.s.processes.holderView(p, wanted));
  }

  unbind(ref: DeviceRef): Promise<void> {
    return this.guard(() => this.deviceOps.unbind(ref));
  }

  bind(ref: DeviceRef, driver: string): Promise<void> {
    return this.guard(() => this.deviceOps.bind(ref, driver));
  }

  unload(modules: readonly string[]): Promise<void> {
    return this.guard(() => this.moduleOps.unload(modules));
  }

  load(spec: LoadSpec): Promise<void> {
    return this.guard(() => this.moduleOps.load(spec));
  }

  signal(pid: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    return this.guard(async () => {
      const process = this.process(pid);
      this.s.log.record('signal', { pid, comm: process.comm, detail: signal });
      this.behaviour.exit(process, `killed by ${signal}`);
    });
  }

  /** An application opens a node now (tests and the demo drive processes with it). Returns the fd. */
  openFile(pid: number, path: string, mmap = false): Promise<number> {
    return this.guard(async () => {
      const process = this.process(pid);
      try {
        return this.files.open(process, path, mmap);
      } catch (err) {
        if (err instanceof KernelActionError)
          this.s.log.record('open-failed', { pid, comm: process.comm, path, errno: err.code });
        throw err;
      }
    });
  }

  /** An application closes one of its fds now. */
  closeFile(pid: number, fd: number): Promise<void> {
    return this.guard(async () => this.files.close(this.process(pid), fd));
  }

  async actionLog(since?: number): Promise<SimActionEntry[]> {
    return this.s.log.since(since);
  }

  async snapshot(): Promise<SimSnapshot> {
    return takeSnapshot(this.s);
  }

  /** Stops every timer; calls still blocked in the kernel reject with EIO. Idempotent. */
  async close(): Promise<void> {
    if (this.s.isStopped) return;
    this.s.stop();
    this.stop(new KernelActionError('EIO', 'the simulated host stopped'));
  }

  private guard<T>(work: () => Promise<T>): Promise<T> {
    if (this.s.isStopped) return Promise.reject(new KernelActionError('EIO', 'the simulated host stopped'));
    return Promise.race([work(), this.stopped]);
  }

  private process(pid: number): SimProcess {
    const process = this.s.processes.get(pid);
    if (!process) throw new KernelActionError('ENOENT', `pid ${pid}: No such process (ESRCH)`);
    return process;
  }

  /** The host as it is at boot: modules loaded (dependencies first), devices bound, apps running. */
  private boot(scenario: SimScenario): void {
    const byName = new Map(scenario.modules.map((m) => [m.name, m]));
    const insert = (name: string) => {
      const m = byName.get(name);
      if (!m || this.s.modules.get(name)) return;
      m.dependsOn.forEach(insert);
      const info = { module: m.name, file: m.file ?? '(builtin)', version: m.version, srcversion: m.srcversion };
      this.s.modules.add({ ...info, dependsOn: m.dependsOn, builtin: m.builtin }, m.params, 'live');
    };
    scenario.modules.forEach((m) => insert(m.name));
    scenario.devices.forEach((spec, i) => {
      const device = this.s.devices.devices[i];
      if (!device || !spec.bound) return;
      device.driver = spec.driver;
      this.s.devices.createNode(device);
    });
    this.s.log.record('boot', { detail: scenario.host });
    for (const spec of scenario.processes) {
      const process = this.s.processes.spawn(spec);
      this.s.log.record('spawn', { pid: process.pid, comm: process.comm, detail: 'boot' });
      for (const open of spec.opens) this.files.open(process, open.path, open.mmap);
    }
  }
}
