import type { BoundDevice, DeviceNode, DeviceRef, FopsOwner, RevokeScheme } from '../kernel.port.js';
import { DeviceLock } from './device.lock.js';
import type { SimDriverSpec, SimScenario } from './sim-scenario.schema.js';

export interface SimDevice {
  readonly bus: string;
  readonly id: string;
  readonly vendor: string | undefined;
  readonly device: string | undefined;
  /** The driver whose id table matches this device. */
  readonly matchDriver: string;
  readonly nodePath: string;
  readonly rdev: string;
  /** The sysfs class its node would sit in on a real host (`misc`, `vfio`...), when the scenario says. */
  readonly sysfsClass: string | null;
  readonly revoke: RevokeScheme;
  readonly errno: 'ENODEV' | 'EIO';
  readonly fopsOwner: FopsOwner;
  readonly fopsModule: string | null;
  readonly lock: DeviceLock;
  /** Bound driver, null when unbound. Stays set while an unbind is in progress. */
  driver: string | null;
  /** The node while bound; each creation gets a new inode. */
  node: DeviceNode | null;
  /** An unbind has started and not finished (the wait scheme refuses new opens meanwhile). */
  unbinding: boolean;
}

/** Devices and drivers of the simulated host. */
export class SimDeviceTable {
  readonly devices: SimDevice[];
  private readonly drivers: readonly SimDriverSpec[];
  private nextIno = 1000;

  constructor(scenario: SimScenario) {
    this.drivers = scenario.drivers;
    this.devices = scenario.devices.map((d) => ({
      bus: d.bus,
      id: d.id,
      vendor: d.vendor,
      device: d.device,
      matchDriver: d.driver,
      nodePath: d.node.path,
      rdev: `${d.node.major}:${d.node.minor}`,
      sysfsClass: d.node.class ?? null,
      revoke: d.revoke,
      errno: d.errno,
      fopsOwner: d.fopsOwner,
      fopsModule: d.fopsModule ?? null,
      lock: new DeviceLock(),
      driver: null,
      node: null,
      unbinding: false,
    }));
  }

  find(ref: DeviceRef): SimDevice | undefined {
    return this.devices.find((d) => d.bus === ref.bus && d.id === ref.id);
  }

  /** The device whose node currently exists at `path` (open(2) resolves paths, not devices). */
  byNodePath(path: string): SimDevice | undefined {
    return this.devices.find((d) => d.node?.path === path);
  }

  driver(bus: string, name: string): SimDriverSpec | undefined {
    return this.drivers.find((d) => d.bus === bus && d.name === name);
  }

  /** Drivers registered by a module (its init registers them, its exit unregisters them). */
  driversOf(module: string): SimDriverSpec[] {
    return this.drivers.filter((d) => d.module === module);
  }

  /** The module a bound device's driver belongs to. */
  driverModule(device: SimDevice): string | null {
    return device.driver === null ? null : (this.driver(device.bus, device.driver)?.module ?? null);
  }

  /** Creates the node of a device being bound: same path and rdev, always a new inode. */
  createNode(device: SimDevice): DeviceNode {
    device.node = { path: device.nodePath, rdev: device.rdev, ino: this.nextIno++ };
    return device.node;
  }

  view(device: SimDevice): BoundDevice {
    return {
      bus: device.bus,
      id: device.id,
      driver: device.driver,
      nodes: device.node ? [{ ...device.node }] : [],
      ...(device.vendor !== undefined ? { vendor: device.vendor } : {}),
      ...(device.device !== undefined ? { device: device.device } : {}),
    };
  }
}
