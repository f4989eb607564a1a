import { createConnection, type Socket } from 'node:net';
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
import type { CrashTrap, CrashTraps } from './sim-crash.trap.js';

type CrashTrapStatus = ReturnType<CrashTraps['status']>;
import type { SimHostInfo } from './sim-rpc.methods.js';
import { decodeError, LineSplitter, SimHostError, type SimRpcResponse } from './sim-rpc.protocol.js';
import type { SimSnapshot } from './sim.snapshot.js';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * The kernel port over a sim host's socket. Kernel refusals reject with KernelActionError
 * (same code and message as in the host); a lost connection rejects pending calls with a
 * SimHostError('ECONNRESET'): the action may still complete in the host.
 */
export class SimKernelAdapter implements KernelPort {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed: Promise<void> | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    const lines = new LineSplitter();
    socket.on('data', (chunk: string) => lines.push(chunk).forEach((line) => this.receive(line)));
    socket.on('error', () => undefined); // surfaces as 'close'
    socket.on('close', () => this.failAll(new SimHostError('ECONNRESET', 'connection to the sim host closed')));
  }

  /** Connects to a sim host listening on `socketPath` (rejects if none does). */
  static connect(socketPath: string): Promise<SimKernelAdapter> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new SimKernelAdapter(socket));
      });
    });
  }

  findDevices(query: DeviceQuery): Promise<BoundDevice[]> {
    return this.call('findDevices', { query });
  }
  device(ref: DeviceRef): Promise<BoundDevice | null> {
    return this.call('device', { ref });
  }
  classifyNodes(ref: DeviceRef): Promise<ClassifiedNode[]> {
    return this.call('classifyNodes', { ref });
  }
  module(name: string): Promise<LoadedModule | null> {
    return this.call('module', { name });
  }
  async moduleUse(names: readonly string[]): Promise<Record<string, ModuleUse | null>> {
    return moduleUseOf(names, await Promise.all(names.map((name) => this.module(name))));
  }
  resolveTarget(spec: LoadSpec): Promise<ModuleTarget> {
    return this.call('resolveTarget', { spec });
  }
  census(rdevs: readonly string[]): Promise<Holder[]> {
    return this.call('census', { rdevs });
  }
  watch(scope: WatchScope, rdevs: readonly string[]): Promise<Holder[]> {
    return this.call('watch', { scope, rdevs });
  }
  unbind(ref: DeviceRef): Promise<void> {
    return this.call('unbind', { ref });
  }
  bind(ref: DeviceRef, driver: string): Promise<void> {
    return this.call('bind', { ref, driver });
  }
  unload(modules: readonly string[]): Promise<void> {
    return this.call('unload', { modules });
  }
  load(spec: LoadSpec): Promise<void> {
    return this.call('load', { spec });
  }
  signal(pid: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    return this.call('signal', { pid, signal });
  }

  /** Simulator only: the action log from entry `since` on. */
  actionLog(since?: number): Promise<SimActionEntry[]> {
    return this.call('actionLog', since === undefined ? {} : { since });
  }
  /** Simulator only (chaos tests): kill process `pid` at the next call of a kernel action. */
  armCrash(trap: CrashTrap): Promise<CrashTrapStatus> {
    return this.call('armCrash', trap);
  }
  /** Simulator only: the armed trap and those that went off. */
  crashTraps(): Promise<CrashTrapStatus> {
    return this.call('crashTraps', {});
  }
  /** Simulator only: modules, devices and processes with their files. */
  snapshot(): Promise<SimSnapshot> {
    return this.call('snapshot', {});
  }
  /** Simulator only: host name, sim host pid, socket, start time. */
  hostInfo(): Promise<SimHostInfo> {
    return this.call('hostInfo', {});
  }
  /** Simulator only: make an application open a node now; resolves to the fd. */
  openFile(pid: number, path: string, mmap = false): Promise<number> {
    return this.call('openFile', { pid, path, mmap });
  }
  /** Simulator only: make an application close one fd now. */
  closeFile(pid: number, fd: number): Promise<void> {
    return this.call('closeFile', { pid, fd });
  }
  /** Simulator only: stop the sim host process (the simulated host "powers off"). */
  shutdownHost(): Promise<void> {
    return this.call('shutdown', {});
  }

  /** Closes the connection (the host keeps running). Idempotent. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
    return this.closed;
  }

  private call<T>(method: string, params: unknown): Promise<T> {
    if (this.closed || this.socket.destroyed)
      return Promise.reject(new SimHostError('ECONNRESET', 'connection to the sim host is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  private receive(line: string): void {
    const response = JSON.parse(line) as SimRpcResponse;
    const pending = response.id === null ? undefined : this.pending.get(response.id);
    if (!pending || response.id === null) return;
    this.pending.delete(response.id);
    if ('error' in response) pending.reject(decodeError(response.error));
    else pending.resolve(response.result);
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
