import { join } from 'node:path';
import { KernelActionError } from '../kernel-action.error.js';
import type {
  ActionReturned,
  BoundDevice,
  ClassifiedNode,
  DeviceQuery,
  DeviceRef,
  FilesSighting,
  Holder,
  HolderFilesWatch,
  KernelPort,
  LoadedModule,
  LoadSpec,
  ModuleTarget,
  ModuleUse,
  WatchScope,
} from '../kernel.port.js';
import { deviceNodeStat, type NodeStatFn } from './device-node.stat.js';
import { ProcHolderFilesWatch } from './holder-files.watch.js';
import { KernelActionRunner, type LiveAction } from './kernel-action.runner.js';
import { KernelFactsReader, type LockdownMode, type MountedDevice, type VermagicCheck } from './kernel-facts.reader.js';
import { validatePid } from './kernel-name.validator.js';
import { KmsgReader, type KmsgCursor, type KmsgSince } from './kmsg.reader.js';
import { defaultLinuxCommands, type LinuxCommands } from './linux-commands.js';
import { resolveLinuxRoots, type LinuxRoots } from './linux-roots.js';
import { normalizeModuleName, showDependsModules, type ModuleSignature } from './modinfo.parser.js';
import { ModinfoReader } from './modinfo.reader.js';
import { NetworkRouteReader, type RouteDevice } from './network-route.reader.js';
import { ModuleActions } from './module.actions.js';
import { ProcfsCensus } from './procfs.census.js';
import { behavioursForClass, type SubsystemBehaviour } from './subsystem-behaviour.table.js';
import { SysfsDeviceActions } from './sysfs-device.actions.js';
import { SysfsDeviceReader, type ClassifiedNode as SysfsClassifiedNode } from './sysfs-device.reader.js';
import { SysfsModuleReader } from './sysfs-module.reader.js';
import type { KernelTaint } from './taint.reader.js';

export interface LinuxKernelAdapterOptions {
  /** sysfs, procfs and dev roots (default /sys, /proc, /dev): tests point them at captured trees. */
  readonly roots?: Partial<LinuxRoots>;
  /** modprobe, insmod, modinfo, dd (default: found on PATH). */
  readonly commands?: Partial<LinuxCommands>;
  /** How nodes under the dev root are stat'ed: `capturedNodeStat` for trees without real nodes. */
  readonly statNode?: NodeStatFn;
  /** Processes the census reads at once (default 32). */
  readonly censusConcurrency?: number;
  /** Clock for liveActions().since, unbind returns and fd sightings (default Date.now). */
  readonly now?: () => number;
}

/** A node of a device with the subsystem rows that may describe it. */
export interface NodeSubsystem extends SysfsClassifiedNode {
  readonly behaviours: readonly SubsystemBehaviour[];
}

/**
 * The kernel port on a real Linux host: sysfs and procfs readers, a /proc census, and kernel
 * actions run as child processes (never on the event loop; see KernelActionRunner). Extra
 * methods beyond the port serve preflight (kernel facts) and the swap runner (liveActions).
 */
export class LinuxKernelAdapter implements KernelPort {
  readonly roots: LinuxRoots;
  private readonly runner: KernelActionRunner;
  private readonly devices: SysfsDeviceReader;
  private readonly modules: SysfsModuleReader;
  private readonly censusReader: ProcfsCensus;
  private readonly deviceActions: SysfsDeviceActions;
  private readonly moduleActions: ModuleActions;
  private readonly facts: KernelFactsReader;
  private readonly kmsg: KmsgReader;
  private readonly routes: NetworkRouteReader;
  private readonly now: () => number;
  private closed = false;
  /** A files watch started ahead of its use (prepareFilesWatch), not watching yet. */
  private spare: ProcHolderFilesWatch | null = null;

  constructor(options: LinuxKernelAdapterOptions = {}) {
    this.roots = resolveLinuxRoots(options.roots);
    const commands = { ...defaultLinuxCommands, ...options.commands };
    const statNode = options.statNode ?? deviceNodeStat;
    const now = options.now ?? Date.now;
    this.now = now;
    this.runner = new KernelActionRunner(now);
    const modinfo = new ModinfoReader(this.runner, commands.modinfo);
    this.devices = new SysfsDeviceReader(this.roots, statNode);
    this.modules = new SysfsModuleReader(this.roots, modinfo);
    this.censusReader = new ProcfsCensus(this.roots, statNode, { concurrency: options.censusConcurrency });
    this.deviceActions = new SysfsDeviceActions(this.roots, this.devices, this.runner, commands.dd, now);
    this.facts = new KernelFactsReader(this.roots, statNode, modinfo);
    this.moduleActions = new ModuleActions(this.runner, modinfo, this.modules, commands, () =>
      this.facts.kernelRelease(),
    );
    this.kmsg = new KmsgReader(join(this.roots.dev, 'kmsg'));
    this.routes = new NetworkRouteReader(this.roots);
  }

  // --- the port: reading ---

  findDevices(query: DeviceQuery): Promise<BoundDevice[]> {
    return this.devices.findDevices(query);
  }
  device(ref: DeviceRef): Promise<BoundDevice | null> {
    return this.devices.device(ref);
  }
  async classifyNodes(ref: DeviceRef): Promise<ClassifiedNode[]> {
    return (await this.devices.classifiedNodes(ref)).map((n) => ({
      path: n.node.path,
      rdev: n.node.rdev,
      sysfsClass: n.sysfsClass,
    }));
  }
  module(name: string): Promise<LoadedModule | null> {
    return this.modules.module(name);
  }
  moduleUse(names: readonly string[]): Promise<Record<string, ModuleUse | null>> {
    return this.modules.use(names);
  }
  resolveTarget(spec: LoadSpec): Promise<ModuleTarget> {
    return this.moduleActions.resolveTarget(spec);
  }
  census(rdevs: readonly string[]): Promise<Holder[]> {
    return this.censusReader.census(rdevs);
  }
  watch(scope: WatchScope, rdevs: readonly string[]): Promise<Holder[]> {
    return this.censusReader.watch(scope, rdevs);
  }
  filesWatch(
    rdevs: readonly string[],
    pids: readonly number[],
    onSighting: (sighting: FilesSighting) => void,
  ): HolderFilesWatch {
    const watch = this.spare ?? new ProcHolderFilesWatch(this.roots.proc, this.now);
    this.spare = null;
    return watch.watch(rdevs, pids, onSighting);
  }
  /** Starts the next files watch's worker now, idle (see ProcHolderFilesWatch); one at a time. */
  prepareFilesWatch(): void {
    if (!this.closed) this.spare ??= new ProcHolderFilesWatch(this.roots.proc, this.now);
  }

  // --- the port: kernel actions (each in a child process; the caller keeps the deadline) ---

  unbind(ref: DeviceRef, writing?: () => void): Promise<ActionReturned> {
    return this.act(() => this.deviceActions.unbind(ref, writing));
  }
  bind(ref: DeviceRef, driver: string): Promise<void> {
    return this.act(() => this.deviceActions.bind(ref, driver));
  }
  unload(modules: readonly string[]): Promise<void> {
    return this.act(() => this.moduleActions.unload(modules));
  }
  load(spec: LoadSpec): Promise<void> {
    return this.act(() => this.moduleActions.load(spec));
  }
  signal(pid: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    return this.act(async () => {
      validatePid(pid);
      try {
        process.kill(pid, signal);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ESRCH') throw new KernelActionError('ENOENT', `pid ${pid}: No such process (ESRCH)`);
        throw new KernelActionError('EIO', `kill ${signal} ${pid}: ${(err as Error).message}`);
      }
    });
  }

  // --- beyond the port: actions ---

  /** `echo ID > SYS/bus/BUS/drivers_probe`: let the driver core bind the device (honours driver_override). */
  probe(ref: DeviceRef): Promise<void> {
    return this.act(() => this.deviceActions.probe(ref));
  }
  /** Sets or (null) clears the device's driver_override. */
  setDriverOverride(ref: DeviceRef, driver: string | null): Promise<void> {
    return this.act(() => this.deviceActions.setDriverOverride(ref, driver));
  }
  /** Kernel actions whose child has not exited yet: what, pid, since (a stuck one stays here). */
  liveActions(): LiveAction[] {
    return this.runner.liveActions();
  }

  // --- beyond the port: reading, for preflight ---

  driverOverride(ref: DeviceRef): Promise<string | null> {
    return this.devices.driverOverride(ref);
  }
  /** The device's nodes (bound or not) with their sysfs class and the subsystem rows matching it. */
  async nodeSubsystems(ref: DeviceRef): Promise<NodeSubsystem[]> {
    return (await this.devices.classifiedNodes(ref)).map((n) => ({
      ...n,
      behaviours: behavioursForClass(n.sysfsClass),
    }));
  }
  /** Names of every loaded (not built-in) module: the set to restore after `modprobe -r`. */
  loadedModules(): Promise<string[]> {
    return this.modules.loadedModules();
  }
  /** `modprobe -n --show-depends NAME` lines; rejects (KernelActionError) when modprobe would fail. */
  showDepends(module: string): Promise<string[]> {
    return this.moduleActions.showDepends(module);
  }
  /**
   * The modules kmod counts as NAME's dependencies (modules.dep, through `modprobe -n
   * --show-depends`): only those can `modprobe -r NAME` take along. Null when modprobe does not
   * know NAME (a module loaded from a file outside the module tree).
   */
  async modprobeDependencies(module: string): Promise<string[] | null> {
    const self = normalizeModuleName(module);
    try {
      return showDependsModules(await this.showDepends(module)).filter((m) => m !== self);
    } catch {
      return null;
    }
  }
  kernelRelease(): Promise<string | null> {
    return this.facts.kernelRelease();
  }
  taint(): Promise<KernelTaint | null> {
    return this.facts.taint();
  }
  modulesDisabled(): Promise<boolean | null> {
    return this.facts.modulesDisabled();
  }
  lockdown(): Promise<LockdownMode | null> {
    return this.facts.lockdown();
  }
  sigEnforce(): Promise<boolean | null> {
    return this.facts.sigEnforce();
  }
  vermagicOk(file: string): Promise<VermagicCheck | null> {
    return this.facts.vermagicOk(file);
  }
  /** The signature a module file carries ('unsigned': none; null: the file cannot be read). */
  moduleSignature(file: string): Promise<ModuleSignature | 'unsigned' | null> {
    return this.facts.signature(file);
  }
  /** The interface traffic to `address` (a literal IP) leaves through, and its device's sysfs directory. */
  routeDevice(address: string): Promise<RouteDevice | null> {
    return this.routes.routeDevice(address);
  }
  /** The real sysfs directory of a device (`SYS/devices/...`), or null when it does not exist. */
  deviceDir(ref: DeviceRef): Promise<string | null> {
    return this.devices.deviceDir(ref);
  }
  mountedDevices(): Promise<MountedDevice[] | null> {
    return this.facts.mountedDevices();
  }
  /** Where the kernel log ends now (take it at swap start); null when /dev/kmsg cannot be read. */
  kmsgCursor(): Promise<KmsgCursor | null> {
    return this.kmsg.cursor();
  }
  /** Kernel log records written since the cursor; null when /dev/kmsg cannot be read. */
  kmsgSince(cursor: KmsgCursor): Promise<KmsgSince | null> {
    return this.kmsg.since(cursor);
  }

  /**
   * Refuses further actions and lets the process exit even if a child is stuck in the kernel
   * (children are not killed: that would not free them, and the journal knows about them).
   * Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.runner.detach();
    await this.spare?.close();
    this.spare = null;
  }

  private act<T>(action: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new KernelActionError('EIO', 'the Linux kernel adapter is closed'));
    try {
      return action();
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
