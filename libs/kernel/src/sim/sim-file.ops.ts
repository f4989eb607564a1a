import { KernelActionError } from '../kernel-action.error.js';
import type { SimDevice } from './sim-device.table.js';
import type { SimKernelState } from './sim-kernel.state.js';
import type { SimOpenFile, SimProcess } from './sim-process.table.js';
import type { SimOpenSpec } from './sim-scenario.schema.js';

/**
 * open/close/mmap/munmap of device nodes, and what the kernel does to open files at unbind.
 * Owns the rule that an open file pins its fops module from open to last release.
 */
export class SimFileOps {
  private readonly closeWaiters = new Map<SimDevice, (() => void)[]>();

  constructor(private readonly s: SimKernelState) {}

  /** open(2) (and mmap(2) of the result). Throws ENOENT (no node) or ENODEV (device going). */
  open(process: SimProcess, path: string, mmap: boolean): number {
    const device = this.s.devices.byNodePath(path);
    if (!device?.node) throw new KernelActionError('ENOENT', `open ${path}: No such file or directory`);
    // VFIO-like removal: once remove() waits for users, new opens are refused.
    if (device.unbinding && device.revoke === 'wait')
      throw new KernelActionError('ENODEV', `open ${path}: device ${device.id} is being removed`);
    const fops = device.fopsOwner === 'driver' ? this.s.devices.driverModule(device) : device.fopsModule;
    // try_module_get fails on a module that is going (or gone): open fails.
    if (fops === null || !this.s.modules.isLive(fops))
      throw new KernelActionError('ENODEV', `open ${path}: fops module ${fops ?? '?'} is not live`);
    this.s.modules.pin(fops);
    const file: SimOpenFile = {
      id: this.s.fileId(),
      device,
      path,
      rdev: device.node.rdev,
      ino: device.node.ino,
      fops,
      zombie: false,
      refs: mmap ? 2 : 1,
    };
    const fd = this.s.processes.lowestFreeFd(process);
    process.fds.set(fd, file);
    if (mmap) process.mappings.push(file);
    this.s.log.record('open', { ...who(process), fd, ...what(file), ...(mmap ? { detail: 'mmap' } : {}) });
    return fd;
  }

  /** close(2) of one fd; a mapping made from it keeps the file (and its module) alive. */
  close(process: SimProcess, fd: number): void {
    const file = process.fds.get(fd);
    if (!file) throw new KernelActionError('EINVAL', `pid ${process.pid} has no fd ${fd} (EBADF)`);
    process.fds.delete(fd);
    this.s.log.record('close', { ...who(process), fd, ...what(file) });
    this.release(file);
  }

  /** What an application does when its device fails: close every fd and unmap every mapping of it. */
  dropDevice(process: SimProcess, device: SimDevice): SimOpenSpec[] {
    const dropped = new Map<string, SimOpenSpec>();
    for (const [fd, file] of [...process.fds.entries()].filter(([, f]) => f.device === device)) {
      this.close(process, fd);
      dropped.set(file.path, { path: file.path, mmap: dropped.get(file.path)?.mmap ?? false });
    }
    for (const file of process.mappings.filter((f) => f.device === device)) {
      this.unmap(process, file);
      dropped.set(file.path, { path: file.path, mmap: true });
    }
    return [...dropped.values()];
  }

  /** At exit the kernel closes every fd and drops every mapping. */
  dropAll(process: SimProcess): void {
    for (const fd of [...process.fds.keys()]) this.close(process, fd);
    for (const file of [...process.mappings]) this.unmap(process, file);
  }

  /** Revoke scheme: every open file of the device turns zombie. Returns the processes holding one. */
  revoke(device: SimDevice): SimProcess[] {
    const holders: SimProcess[] = [];
    for (const process of this.s.processes.live()) {
      const files = new Set([...process.fds.values(), ...process.mappings].filter((f) => f.device === device));
      for (const file of files) {
        if (file.zombie) continue;
        file.zombie = true;
        this.s.log.record('zombie', { ...who(process), ...what(file), errno: device.errno });
      }
      if (files.size > 0) holders.push(process);
    }
    return holders;
  }

  /** Processes holding a live (not zombie) file of the device. */
  holdersOf(device: SimDevice): SimProcess[] {
    return this.s.processes
      .live()
      .filter((p) => [...p.fds.values(), ...p.mappings].some((f) => f.device === device && !f.zombie));
  }

  /** Resolves once no live file of the device is open (the wait scheme's remove() condition). */
  whenClosed(device: SimDevice): Promise<void> {
    if (this.holdersOf(device).length === 0) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.set(device, [...(this.closeWaiters.get(device) ?? []), resolve]));
  }

  private unmap(process: SimProcess, file: SimOpenFile): void {
    process.mappings = process.mappings.filter((f) => f !== file);
    this.s.log.record('munmap', { ...who(process), ...what(file) });
    this.release(file);
  }

  private release(file: SimOpenFile): void {
    file.refs--;
    if (file.refs > 0) return;
    this.s.modules.unpin(file.fops);
    const waiters = this.closeWaiters.get(file.device);
    if (!file.zombie && waiters && this.holdersOf(file.device).length === 0) {
      this.closeWaiters.delete(file.device);
      waiters.forEach((wake) => wake());
    }
  }
}

const who = (p: SimProcess) => ({ pid: p.pid, comm: p.comm });
const what = (f: SimOpenFile) => ({
  bus: f.device.bus,
  device: f.device.id,
  path: f.path,
  rdev: f.rdev,
  ino: f.ino,
  module: f.fops,
});
