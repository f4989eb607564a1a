import { KernelActionError } from '../kernel-action.error.js';
import type { DeviceRef } from '../kernel.port.js';
import type { SimDevice } from './sim-device.table.js';
import type { SimFileOps } from './sim-file.ops.js';
import type { SimKernelState } from './sim-kernel.state.js';
import type { SimProcessBehaviour } from './sim-process.behaviour.js';
import type { SimDriverSpec } from './sim-scenario.schema.js';

/** Binding and unbinding devices: the sysfs bind/unbind writes and what the driver core does. */
export class SimDeviceOps {
  constructor(
    private readonly s: SimKernelState,
    private readonly files: SimFileOps,
    private readonly behaviour: SimProcessBehaviour,
  ) {}

  /** `echo ID > /sys/bus/BUS/drivers/DRV/unbind`. A second unbind queues on the device lock. */
  async unbind(ref: DeviceRef): Promise<void> {
    const device = this.find(ref);
    const release = await device.lock.acquire();
    try {
      if (device.driver === null) throw new KernelActionError('ENODEV', `device ${device.id} is not bound to a driver`);
      await this.unbindLocked(device);
    } finally {
      release();
    }
  }

  /** `echo ID > /sys/bus/BUS/drivers/DRV/bind`. Refused while an unbind holds the device lock. */
  async bind(ref: DeviceRef, driverName: string): Promise<void> {
    const device = this.find(ref);
    const driver = this.s.devices.driver(device.bus, driverName);
    if (!driver || !this.s.modules.isLive(driver.module))
      throw new KernelActionError('ENODEV', `driver ${driverName} is not registered on bus ${device.bus}`);
    if (driver.name !== device.matchDriver)
      throw new KernelActionError('ENODEV', `driver ${driverName} does not match device ${device.id}`);
    const release = device.lock.tryAcquire();
    if (!release)
      throw new KernelActionError('EBUSY', `device ${device.id} is locked: an unbind or probe is still in progress`);
    try {
      if (device.driver !== null)
        throw new KernelActionError('EBUSY', `device ${device.id} is already bound to ${device.driver}`);
      if (!(await this.probe(device, driver)))
        throw new KernelActionError('EIO', `probe of ${device.id} by ${driverName} failed`);
    } finally {
      release();
    }
  }

  /** A driver module just loaded: its drivers register and probe every matching unbound device. */
  async autoProbe(module: string): Promise<void> {
    for (const driver of this.s.devices.driversOf(module)) {
      const unbound = this.s.devices.devices.filter(
        (d) => d.bus === driver.bus && d.matchDriver === driver.name && d.driver === null,
      );
      for (const device of unbound) {
        const release = device.lock.tryAcquire();
        if (!release) continue;
        try {
          await this.probe(device, driver);
        } finally {
          release();
        }
      }
    }
  }

  /** driver_unregister of a going module: each device still bound to its drivers is unbound. */
  async unbindDevicesOf(module: string): Promise<void> {
    for (const driver of this.s.devices.driversOf(module)) {
      for (const device of this.s.devices.devices.filter((d) => d.bus === driver.bus && d.driver === driver.name)) {
        const release = await device.lock.acquire();
        try {
          if (device.driver === driver.name) await this.unbindLocked(device);
        } finally {
          release();
        }
      }
    }
  }

  /**
   * remove() of a bound device. Revoke: after unbindMs the node goes, open files turn zombie,
   * holders get the errno. Wait: holders are asked to release, and it returns only once the
   * last file is closed. With the unbind-hangs fault it never returns.
   */
  private async unbindLocked(device: SimDevice): Promise<void> {
    const driver = device.driver;
    const at = { bus: device.bus, device: device.id, ...(driver ? { driver } : {}) };
    device.unbinding = true;
    this.s.log.record('unbind-start', { ...at, detail: `${device.revoke} scheme` });
    if (device.revoke === 'wait') {
      for (const holder of this.files.holdersOf(device)) this.behaviour.notify(holder, device, 'release-request');
    }
    if (this.s.faults.unbindHangs(device)) return new Promise<never>(() => undefined);
    if (device.revoke === 'wait')
      await Promise.all([this.s.sleep(this.s.timing.unbindMs), this.files.whenClosed(device)]);
    else await this.s.sleep(this.s.timing.unbindMs);

    const node = device.node;
    device.node = null;
    const revoked = device.revoke === 'revoke' ? this.files.revoke(device) : [];
    device.driver = null;
    device.unbinding = false;
    this.s.log.record('unbind-done', { ...at, ...(node ? { path: node.path, rdev: node.rdev, ino: node.ino } : {}) });
    for (const holder of revoked) this.behaviour.notify(holder, device, 'revoked');
  }

  private async probe(device: SimDevice, driver: SimDriverSpec): Promise<boolean> {
    await this.s.sleep(this.s.timing.probeMs);
    const module = this.s.modules.get(driver.module);
    const at = { bus: device.bus, device: device.id, driver: driver.name, module: driver.module };
    if (!module || module.state === 'going') {
      this.s.log.record('probe-failed', { ...at, detail: 'driver module went away during probe' });
      return false;
    }
    if (this.s.faults.takeProbeFailure(device, module.version)) {
      this.s.log.record('probe-failed', { ...at, version: module.version, detail: 'injected probe-fails fault' });
      return false;
    }
    device.driver = driver.name;
    const node = this.s.devices.createNode(device);
    this.s.log.record('bind', { ...at, version: module.version, path: node.path, rdev: node.rdev, ino: node.ino });
    return true;
  }

  private find(ref: DeviceRef): SimDevice {
    const device = this.s.devices.find(ref);
    if (!device) throw new KernelActionError('ENOENT', `no device ${ref.id} on bus ${ref.bus}`);
    return device;
  }
}
