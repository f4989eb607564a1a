import type { BoundDevice, DeviceMapping, FopsOwner, LoadedModule, OpenFile, RevokeScheme } from '../kernel.port.js';
import type { SimKernelState } from './sim-kernel.state.js';
import type { SimModuleState } from './sim-module.table.js';

/** An fd as the simulator sees it: plus the module it pins and the id of its struct file. */
export interface SimFileView extends OpenFile {
  readonly fops: string;
  readonly file: number;
}
export interface SimMappingView extends DeviceMapping {
  readonly fops: string;
  readonly file: number;
}
export interface SimProcessView {
  readonly pid: number;
  readonly comm: string;
  readonly unit: string | null;
  readonly files: readonly SimFileView[];
  readonly mappings: readonly SimMappingView[];
}
export interface SimModuleView extends LoadedModule {
  readonly state: SimModuleState;
}
export interface SimDeviceView extends BoundDevice {
  readonly revoke: RevokeScheme;
  readonly errno: 'ENODEV' | 'EIO';
  readonly fopsOwner: FopsOwner;
  readonly fopsModule: string | null;
  /** An unbind has started and not finished. */
  readonly unbinding: boolean;
  /** The device lock is held (unbind or probe in progress). */
  readonly locked: boolean;
}

/** The whole simulated host at one instant, for tests, the demo and invariant checks. */
export interface SimSnapshot {
  readonly host: string;
  readonly t: number;
  readonly mono: number;
  readonly modules: readonly SimModuleView[];
  readonly devices: readonly SimDeviceView[];
  readonly processes: readonly SimProcessView[];
}

export function takeSnapshot(s: SimKernelState): SimSnapshot {
  return {
    host: s.scenario.host,
    t: s.clock.now(),
    mono: s.clock.monotonic(),
    modules: s.modules.all().map((m) => ({ ...s.modules.view(m), state: m.state })),
    devices: s.devices.devices.map((d) => ({
      ...s.devices.view(d),
      revoke: d.revoke,
      errno: d.errno,
      fopsOwner: d.fopsOwner,
      fopsModule: d.fopsModule,
      unbinding: d.unbinding,
      locked: d.lock.held,
    })),
    processes: s.processes.live().map((p) => ({
      pid: p.pid,
      comm: p.comm,
      unit: p.unit,
      files: [...p.fds.entries()]
        .sort(([a], [b]) => a - b)
        .map(([fd, f]) => ({
          fd,
          path: f.path,
          deleted: f.zombie,
          rdev: f.rdev,
          ino: f.ino,
          fops: f.fops,
          file: f.id,
        })),
      mappings: p.mappings.map((f) => ({
        path: f.path,
        deleted: f.zombie,
        rdev: f.rdev,
        ino: f.ino,
        fops: f.fops,
        file: f.id,
      })),
    })),
  };
}
