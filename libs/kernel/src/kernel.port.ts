/**
 * The host-kernel port: everything the agent knows about and does to a host's kernel goes
 * through this interface. Two adapters implement it: `sim/` (a simulated host living in its
 * own process) and `linux/` (sysfs, procfs, modprobe).
 *
 * Identity rule (DESIGN.md): an open file is identified by the device number (`rdev`,
 * "MAJOR:MINOR") and the inode of what it refers to, never by its path. A removed node's
 * link reads "... (deleted)", and a recreated node may reuse both path and device number.
 */

/** How a subsystem handles an unbind while files are open on the device's nodes. */
export type RevokeScheme = 'revoke' | 'wait';

/** Who owns the `file_operations` of a device node, hence which module open files pin. */
export type FopsOwner = 'driver' | 'subsystem';

/** A device node as it exists now: path under /dev, device number, inode of the node. */
export interface DeviceNode {
  readonly path: string;
  readonly rdev: string;
  readonly ino: number;
}

/**
 * A device node with the sysfs class it sits in (`misc`, `vfio`, `infiniband_verbs`...): the
 * class tells which subsystem's row of the behaviour table describes it. Null when unknown.
 */
export interface ClassifiedNode {
  readonly path: string;
  readonly rdev: string;
  readonly sysfsClass: string | null;
}

/** Names a device on a bus, e.g. `{ bus: 'pci', id: '0000:03:00.0' }`. */
export interface DeviceRef {
  readonly bus: string;
  readonly id: string;
}

export interface BoundDevice extends DeviceRef {
  /** Driver currently bound, or null when the device is unbound. */
  readonly driver: string | null;
  /** Nodes the bound driver exposes; empty while unbound. */
  readonly nodes: readonly DeviceNode[];
  readonly vendor?: string;
  readonly device?: string;
}

/** What to look for: devices of a bus, bound to a driver (optionally matching ids). */
export interface DeviceQuery {
  readonly bus: string;
  readonly driver: string;
  readonly vendor?: string;
  readonly device?: string;
}

export interface LoadedModule {
  readonly name: string;
  readonly version: string | null;
  readonly srcversion: string | null;
  /** `/sys/module/NAME/refcnt`: dependent modules plus references taken by open files. */
  readonly refcnt: number;
  /** `/sys/module/NAME/holders`: modules that depend on this one. */
  readonly holders: readonly string[];
  /** Modules this one depends on (the reverse of holders). */
  readonly dependsOn: readonly string[];
  /** Built-in or permanent modules can never be unloaded. */
  readonly unloadable: boolean;
  /** The file it was loaded from, when known (needed to reload it on rollback). */
  readonly file: string | null;
  /** Parameters it was loaded with (`name=value`), to reload it identically. */
  readonly params: readonly string[];
}

/** How much a loaded module is in use: what the unload waits on. */
export interface ModuleUse {
  readonly refcnt: number;
  /** Modules that depend on this one. */
  readonly holders: readonly string[];
}

/** What a load target resolves to before anything is loaded (`modinfo` of the file). */
export interface ModuleTarget {
  readonly module: string;
  readonly file: string;
  readonly version: string | null;
  readonly srcversion: string | null;
}

/** A load request: a module by name (resolved as `modprobe` would), or an explicit file. */
export type LoadSpec =
  | { readonly module: string; readonly version?: string; readonly params?: readonly string[] }
  | { readonly module: string; readonly file: string; readonly params?: readonly string[] };

export interface OpenFile {
  readonly fd: number;
  /** What `readlink /proc/PID/fd/N` shows, without the " (deleted)" suffix. */
  readonly path: string;
  readonly deleted: boolean;
  readonly rdev: string;
  readonly ino: number;
}

/** A memory mapping of a device node (`/proc/PID/maps`). */
export interface DeviceMapping {
  readonly path: string;
  readonly deleted: boolean;
  readonly rdev: string;
  readonly ino: number;
}

/** A process holding at least one file or mapping on the nodes asked about. */
export interface Holder {
  readonly pid: number;
  readonly comm: string;
  /** systemd unit or container the process belongs to (its cgroup), when known. */
  readonly unit: string | null;
  readonly files: readonly OpenFile[];
  readonly mappings: readonly DeviceMapping[];
}

/** Which processes the recovery watch looks at: known PIDs, plus anything in their units. */
export interface WatchScope {
  readonly pids: readonly number[];
  readonly units: readonly string[];
}

/**
 * When a kernel action's own write returned, stamped by the child process that made it right
 * after the write: what the agent hears later (the child's exit, its event loop) lags behind.
 */
export interface ActionReturned {
  /** The agent's clock (epoch ms, like every event's `at`), from the child's CLOCK_MONOTONIC. */
  readonly returnedAt: number;
}

/** One look at a process's open files on the device numbers asked about, and when it was taken. */
export interface FilesSighting {
  readonly pid: number;
  /** When its fd table was read (the agent's clock, epoch ms). */
  readonly at: number;
  readonly files: readonly OpenFile[];
}

/**
 * Known processes' open files on the device numbers asked about (no mappings, names or units),
 * looked at every few milliseconds off the agent's main thread. A process's sighting is told
 * when its files there change (and at its first look), dated when its fd table was read: a
 * process missing from every sighting has exited or cannot be read (the full watch tells which).
 */
export interface HolderFilesWatch {
  /** From now on, look at these processes only (none: idle until told more). */
  follow(pids: readonly number[]): void;
  /** Resolves once a whole look taken after the call, and every look before it, has been told (or the watch cannot say). */
  flush(): Promise<void>;
  /** Stops looking; idempotent. */
  close(): Promise<void>;
}

export interface KernelPort {
  /** Devices of a bus bound to a driver, with their nodes. */
  findDevices(query: DeviceQuery): Promise<BoundDevice[]>;
  /** One device by bus id, bound or not; null when it does not exist. */
  device(ref: DeviceRef): Promise<BoundDevice | null>;
  /** The nodes a device exposes (bound or not, when the host can tell) with their sysfs class. */
  classifyNodes(ref: DeviceRef): Promise<ClassifiedNode[]>;
  /** A loaded module, or null when it is not loaded. */
  module(name: string): Promise<LoadedModule | null>;
  /**
   * The refcount and holders of each of `names` (null: not loaded), read at once and cheaply:
   * polled while zombies close, where `module()` (a dozen reads) would delay the unload.
   */
  moduleUse(names: readonly string[]): Promise<Record<string, ModuleUse | null>>;
  /** What a load spec resolves to (the file modprobe would pick, its version and srcversion). */
  resolveTarget(spec: LoadSpec): Promise<ModuleTarget>;
  /** Every process with an open file or mapping whose device number is in `rdevs`. */
  census(rdevs: readonly string[]): Promise<Holder[]>;
  /**
   * Like census, but only looks at the processes in `scope` (cheap, for polling), and returns
   * EVERY live process of the scope, with its files and mappings filtered to `rdevs` (possibly
   * none): a process missing from the answer has exited.
   */
  watch(scope: WatchScope, rdevs: readonly string[]): Promise<Holder[]>;
  /**
   * A tight watch of `pids`' files on `rdevs`, for the recovery watch; adapters without a cheap
   * way to read fds leave it out (the recovery watch then polls `watch` only).
   */
  filesWatch?(
    rdevs: readonly string[],
    pids: readonly number[],
    onSighting: (sighting: FilesSighting) => void,
  ): HolderFilesWatch;

  /**
   * Gets the next `filesWatch` ready ahead of time, where starting one takes a while (a thread):
   * called before an unbind, so that the watch is already looking when the holders reopen.
   */
  prepareFilesWatch?(): void;

  /**
   * Kernel actions. Each may block in the kernel (an unbind in the wait scheme does not return
   * until every file on the device is closed): callers put a deadline on them and never assume
   * they return. They reject with a KernelActionError when the kernel refuses.
   */
  /**
   * Resolves with when the write returned, when the adapter can tell better than its caller.
   * `writing` is called just before the write is made, when the adapter can tell (its child has
   * started and opened the file): a deadline on the unbind counts from then. Adapters that
   * cannot tell never call it.
   */
  unbind(ref: DeviceRef, writing?: () => void): Promise<ActionReturned | void>;
  bind(ref: DeviceRef, driver: string): Promise<void>;
  /** `modprobe -r` of the modules, in the order given (top of the stack first). */
  unload(modules: readonly string[]): Promise<void>;
  load(spec: LoadSpec): Promise<void>;
  /** Send a signal to a process (blocked-unbind policy `signal`). */
  signal(pid: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;

  close(): Promise<void>;
}
