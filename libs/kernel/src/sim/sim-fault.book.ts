import type { SimDevice } from './sim-device.table.js';
import type { SimFault } from './sim-scenario.schema.js';

/** The scenario's injected faults, with their remaining counts. */
export class SimFaultBook {
  private readonly faults: { fault: SimFault; left: number }[];

  constructor(faults: readonly SimFault[]) {
    this.faults = faults.map((fault) => ({
      fault,
      left: 'times' in fault && fault.times !== undefined ? fault.times : Infinity,
    }));
  }

  unbindHangs(device: SimDevice): boolean {
    return this.faults.some(({ fault: f }) => f.kind === 'unbind-hangs' && matchesDevice(f, device));
  }

  /** Consumes one failure of a load of `module` from `file`, if one is armed. */
  takeLoadFailure(module: string, file: string): boolean {
    return this.take(
      (f) => f.kind === 'load-fails' && f.module === module && (f.file === undefined || f.file === file),
    );
  }

  /** Consumes one failed probe of `device` by a driver of that module version, if one is armed. */
  takeProbeFailure(device: SimDevice, driverVersion: string | null): boolean {
    return this.take(
      (f) =>
        f.kind === 'probe-fails' &&
        matchesDevice(f, device) &&
        (f.driverVersion === undefined || f.driverVersion === driverVersion),
    );
  }

  takeUnloadFailure(module: string): boolean {
    return this.take((f) => f.kind === 'unload-fails' && f.module === module);
  }

  private take(match: (fault: SimFault) => boolean): boolean {
    const armed = this.faults.find((f) => f.left > 0 && match(f.fault));
    if (!armed) return false;
    armed.left--;
    return true;
  }
}

const matchesDevice = (f: { device: string; bus?: string | undefined }, d: SimDevice) =>
  f.device === d.id && (f.bus === undefined || f.bus === d.bus);
