import { SimActionLog } from './sim-action.log.js';
import { SimDeviceTable } from './sim-device.table.js';
import { SimFaultBook } from './sim-fault.book.js';
import { SimModuleCatalog } from './sim-module.catalog.js';
import { SimModuleTable } from './sim-module.table.js';
import { SimProcessTable } from './sim-process.table.js';
import type { SimScenario, SimTiming } from './sim-scenario.schema.js';
import type { SimClock } from './sim.clock.js';
import { seededRandom } from './seeded.random.js';

/**
 * Everything the simulated kernel knows, shared by the parts that act on it (files, process
 * behaviour, devices, modules), plus its timers so stopping the host cancels all of them.
 */
export class SimKernelState {
  readonly log: SimActionLog;
  readonly catalog: SimModuleCatalog;
  readonly modules = new SimModuleTable();
  readonly devices: SimDeviceTable;
  readonly processes: SimProcessTable;
  readonly faults: SimFaultBook;
  readonly timing: SimTiming;
  readonly random: () => number;
  /** Simulator bugs caught in background work (tests assert there are none). */
  readonly internalErrors: unknown[] = [];
  private readonly timers = new Set<() => void>();
  private nextFileId = 1;
  private stopped = false;

  constructor(
    readonly scenario: SimScenario,
    readonly clock: SimClock,
  ) {
    this.log = new SimActionLog(clock);
    this.catalog = new SimModuleCatalog(scenario);
    this.devices = new SimDeviceTable(scenario);
    this.processes = new SimProcessTable(scenario.processes.flatMap((p) => (p.pid === undefined ? [] : [p.pid])));
    this.faults = new SimFaultBook(scenario.faults);
    this.timing = scenario.timing;
    this.random = seededRandom(scenario.seed);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Runs `fn` after `ms` unless the host stops first. */
  schedule(fn: () => void, ms: number): void {
    if (this.stopped) return;
    const cancel = this.clock.setTimer(() => {
      this.timers.delete(cancel);
      try {
        fn();
      } catch (err) {
        this.internalError(err);
      }
    }, ms);
    this.timers.add(cancel);
  }

  /** Resolves after `ms`; never, once the host has stopped (callers are rejected by the kernel). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(resolve, ms));
  }

  /** Background work (auto-probe, process reactions) must never fail silently. */
  background(work: Promise<unknown>): void {
    work.catch((err: unknown) => this.internalError(err));
  }

  internalError(err: unknown): void {
    this.internalErrors.push(err);
    this.log.record('internal-error', { detail: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }

  fileId(): number {
    return this.nextFileId++;
  }

  stop(): void {
    this.stopped = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }
}
