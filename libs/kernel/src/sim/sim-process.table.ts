import type { DeviceMapping, Holder, OpenFile } from '../kernel.port.js';
import type { SimDevice } from './sim-device.table.js';
import type { SimOnError, SimOpenSpec } from './sim-scenario.schema.js';

/**
 * A `struct file`: what an fd and the mappings made from it share. It holds one reference on
 * its fops module from open until the last fd or mapping goes away.
 */
export interface SimOpenFile {
  readonly id: number;
  readonly device: SimDevice;
  readonly path: string;
  readonly rdev: string;
  readonly ino: number;
  /** The module whose fops this file uses (driver module, or the subsystem's). */
  readonly fops: string;
  /** The device was unbound under it: every call fails, the node is gone. */
  zombie: boolean;
  /** Fds plus mappings referring to it. */
  refs: number;
}

export interface SimProcess {
  readonly pid: number;
  readonly comm: string;
  readonly unit: string | null;
  readonly onError: SimOnError;
  /** What it opens when it starts (again, after a restart). */
  readonly opens: readonly SimOpenSpec[];
  readonly fds: Map<number, SimOpenFile>;
  mappings: SimOpenFile[];
  alive: boolean;
  /** Devices whose failure it is handling now (it reacts once per incident). */
  readonly reacting: Set<SimDevice>;
}

export type SimSpawnSpec = Pick<SimProcess, 'comm' | 'unit' | 'onError' | 'opens'> & { readonly pid?: number };

/** The live processes and the files they hold. */
export class SimProcessTable {
  private readonly processes = new Map<number, SimProcess>();
  private nextPid: number;

  constructor(reservedPids: readonly number[]) {
    this.nextPid = Math.max(1000, ...reservedPids) + 1;
  }

  spawn(spec: SimSpawnSpec): SimProcess {
    let pid = spec.pid;
    if (pid === undefined || this.processes.has(pid)) {
      while (this.processes.has(this.nextPid)) this.nextPid++;
      pid = this.nextPid++;
    }
    const process: SimProcess = {
      pid,
      comm: spec.comm,
      unit: spec.unit,
      onError: spec.onError,
      opens: spec.opens,
      fds: new Map(),
      mappings: [],
      alive: true,
      reacting: new Set(),
    };
    this.processes.set(pid, process);
    return process;
  }

  remove(process: SimProcess): void {
    process.alive = false;
    this.processes.delete(process.pid);
  }

  get(pid: number): SimProcess | undefined {
    return this.processes.get(pid);
  }

  live(): SimProcess[] {
    return [...this.processes.values()].sort((a, b) => a.pid - b.pid);
  }

  /** POSIX: open returns the lowest free descriptor; 0-2 are stdio. */
  lowestFreeFd(process: SimProcess): number {
    let fd = 3;
    while (process.fds.has(fd)) fd++;
    return fd;
  }

  /** Distinct open files (struct file) across all processes. */
  openFiles(): SimOpenFile[] {
    const files = new Set<SimOpenFile>();
    for (const p of this.processes.values()) {
      p.fds.forEach((f) => files.add(f));
      p.mappings.forEach((f) => files.add(f));
    }
    return [...files];
  }

  /** The process as /proc shows it, its files and mappings limited to `rdevs` (all when null). */
  holderView(process: SimProcess, rdevs: ReadonlySet<string> | null): Holder {
    const keep = (f: SimOpenFile) => rdevs === null || rdevs.has(f.rdev);
    const files: OpenFile[] = [...process.fds.entries()]
      .filter(([, f]) => keep(f))
      .sort(([a], [b]) => a - b)
      .map(([fd, f]) => ({ fd, path: f.path, deleted: f.zombie, rdev: f.rdev, ino: f.ino }));
    const mappings: DeviceMapping[] = process.mappings
      .filter(keep)
      .map((f) => ({ path: f.path, deleted: f.zombie, rdev: f.rdev, ino: f.ino }));
    return { pid: process.pid, comm: process.comm, unit: process.unit, files, mappings };
  }
}
