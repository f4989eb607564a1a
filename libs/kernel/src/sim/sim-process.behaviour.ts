import { KernelActionError } from '../kernel-action.error.js';
import type { SimDevice } from './sim-device.table.js';
import type { SimFileOps } from './sim-file.ops.js';
import type { SimKernelState } from './sim-kernel.state.js';
import type { SimProcess } from './sim-process.table.js';
import type { SimOpenSpec } from './sim-scenario.schema.js';

/**
 * How simulated applications react when their device fails under them, per their `onError`:
 * a highly available app closes the zombie and reopens the new node once it exists; others
 * ignore it, exit, or exit and get restarted (new pid, same unit) by their service manager.
 */
export class SimProcessBehaviour {
  constructor(
    private readonly s: SimKernelState,
    private readonly files: SimFileOps,
  ) {}

  /**
   * The process learns its device failed: revoke scheme, its next call fails with the
   * device's errno; wait scheme, the subsystem relays a request to release the device.
   */
  notify(process: SimProcess, device: SimDevice, why: 'revoked' | 'release-request'): void {
    const plan = process.onError;
    if (!process.alive || process.reacting.has(device)) return;
    this.s.log.record('notify', {
      pid: process.pid,
      comm: process.comm,
      bus: device.bus,
      device: device.id,
      ...(why === 'revoked' ? { errno: device.errno } : {}),
      detail: `${why}; reacts: ${plan.action}`,
    });
    if (plan.action === 'ignore') return;
    process.reacting.add(device);
    // The first open attempt comes reopenDelayMs (+ jitter) after the error, never before the close.
    const reopenAfter = Math.max(plan.closeAfterMs, plan.reopenDelayMs + this.s.random() * plan.jitterMs);
    const firstOpenAt = this.s.clock.monotonic() + reopenAfter;
    if (plan.action === 'exit' || plan.action === 'restart') {
      const reason = why === 'revoked' ? `exits on ${device.errno}` : 'exits on release request';
      this.s.schedule(() => this.exit(process, reason, firstOpenAt), plan.closeAfterMs);
      return;
    }
    let reopen: SimOpenSpec[] = [];
    this.s.schedule(() => {
      if (!process.alive) return;
      reopen = this.files.dropDevice(process, device);
      process.reacting.delete(device);
    }, plan.closeAfterMs);
    this.s.schedule(() => this.openLoop(process, reopen), reopenAfter);
  }

  /**
   * The process exits (the kernel closes its files). A `restart` process comes back as a new
   * pid after restartDelayMs, and opens its nodes from `firstOpenAt` (monotonic) on.
   */
  exit(process: SimProcess, reason: string, firstOpenAt = this.s.clock.monotonic()): void {
    if (!process.alive) return;
    this.files.dropAll(process);
    this.s.processes.remove(process);
    this.s.log.record('exit', { pid: process.pid, comm: process.comm, detail: reason });
    if (process.onError.action !== 'restart') return;
    this.s.schedule(() => {
      const next = this.s.processes.spawn({
        comm: process.comm,
        unit: process.unit,
        onError: process.onError,
        opens: process.opens,
      });
      this.s.log.record('spawn', { pid: next.pid, comm: next.comm, detail: `restart of pid ${process.pid}` });
      this.s.schedule(() => this.openLoop(next, next.opens), Math.max(0, firstOpenAt - this.s.clock.monotonic()));
    }, process.onError.restartDelayMs);
  }

  /**
   * Opens each node the process wants and does not hold yet; retries every retryMs while the
   * node does not exist (ENOENT) or the device refuses (ENODEV). A failure is logged when it
   * differs from the previous one for that path, to keep the log readable.
   */
  openLoop(process: SimProcess, specs: readonly SimOpenSpec[], lastErrno = new Map<string, string>(), attempt = 1) {
    if (!process.alive) return;
    let failed = false;
    for (const spec of specs) {
      const held = [...process.fds.values()].some((f) => f.path === spec.path && !f.zombie);
      if (held) continue;
      try {
        this.files.open(process, spec.path, spec.mmap);
        lastErrno.delete(spec.path);
      } catch (err) {
        if (!(err instanceof KernelActionError)) throw err;
        failed = true;
        if (lastErrno.get(spec.path) !== err.code) {
          this.s.log.record('open-failed', {
            pid: process.pid,
            comm: process.comm,
            path: spec.path,
            errno: err.code,
            detail: `attempt ${attempt}; retry every ${process.onError.retryMs} ms`,
          });
        }
        lastErrno.set(spec.path, err.code);
      }
    }
    if (failed) this.s.schedule(() => this.openLoop(process, specs, lastErrno, attempt + 1), process.onError.retryMs);
  }
}
