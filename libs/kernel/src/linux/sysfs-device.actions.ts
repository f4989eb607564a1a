import { join } from 'node:path';
import { KernelActionError } from '../kernel-action.error.js';
import type { ActionReturned, DeviceRef } from '../kernel.port.js';
import { exists } from './kernel-file.reader.js';
import type { KernelActionRunner } from './kernel-action.runner.js';
import { validateBusId, validateBusName, validateDriverName } from './kernel-name.validator.js';
import type { LinuxRoots } from './linux-roots.js';
import type { SysfsDeviceReader } from './sysfs-device.reader.js';
import { returnedAtOf, timedWriteCommand, timedWriteError } from './timed-sysfs.write.js';

/**
 * unbind, bind, drivers_probe and driver_override: sysfs writes, each by a child so that a
 * write blocked in the kernel blocks only that child (`dd`; the unbind by a child that stamps
 * when its write returned, see timed-sysfs.write.ts). While an action on a device is in flight
 * (its child alive, perhaps stuck for good with the device lock held), every other action on
 * that device is refused with EBUSY, naming the pending one.
 */
export class SysfsDeviceActions {
  private readonly pending = new Map<string, { what: string; since: number }>();

  constructor(
    private readonly roots: LinuxRoots,
    private readonly devices: SysfsDeviceReader,
    private readonly runner: KernelActionRunner,
    private readonly dd: string,
    private readonly now: () => number,
  ) {}

  /**
   * `echo ID > SYS/bus/BUS/drivers/DRIVER/unbind`, DRIVER being the one bound now. Its return
   * starts every holder's recovery clock (revoke scheme), so the child that writes stamps it;
   * `writing` is called when the child says it is about to write.
   */
  unbind(ref: DeviceRef, writing?: () => void): Promise<ActionReturned> {
    return this.exclusive(ref, `unbind ${ref.bus} ${ref.id}`, async (what) => {
      const driver = await this.devices.driverOf(ref);
      if (driver === undefined) throw noDevice(ref);
      if (driver === null) throw new KernelActionError('ENODEV', `device ${ref.id} is not bound to a driver`);
      validateDriverName(driver);
      const file = this.driverFile(ref.bus, driver, 'unbind');
      return this.timedWrite(file, ref.id, `${what} from ${driver}`, ref, writing);
    });
  }

  /** `echo ID > SYS/bus/BUS/drivers/DRIVER/bind`. */
  bind(ref: DeviceRef, driver: string): Promise<void> {
    validateDriverName(driver);
    return this.exclusive(ref, `bind ${ref.bus} ${ref.id} to ${driver}`, async (what) => {
      const current = await this.devices.driverOf(ref);
      if (current === undefined) throw noDevice(ref);
      if (current !== null) throw new KernelActionError('EBUSY', `device ${ref.id} is already bound to ${current}`);
      if (!(await exists(join(this.roots.sys, 'bus', ref.bus, 'drivers', driver))))
        throw new KernelActionError('ENODEV', `driver ${driver} is not registered on bus ${ref.bus}`);
      const override = await this.devices.driverOverride(ref);
      if (override !== null && override !== driver)
        throw new KernelActionError(
          'ENODEV',
          `device ${ref.id} has driver_override=${override}: only ${override} may bind it (clear the override first)`,
        );
      await this.write(this.driverFile(ref.bus, driver, 'bind'), ref.id, what, ref);
    });
  }

  /** `echo ID > SYS/bus/BUS/drivers_probe`: the driver core picks the driver (honours driver_override). */
  probe(ref: DeviceRef): Promise<void> {
    return this.exclusive(ref, `probe ${ref.bus} ${ref.id}`, async (what) => {
      const current = await this.devices.driverOf(ref);
      if (current === undefined) throw noDevice(ref);
      if (current !== null) throw new KernelActionError('EBUSY', `device ${ref.id} is already bound to ${current}`);
      await this.write(join(this.roots.sys, 'bus', ref.bus, 'drivers_probe'), ref.id, what, ref);
    });
  }

  /** Sets (or with null clears) `driver_override`: only that driver may bind the device next. */
  setDriverOverride(ref: DeviceRef, driver: string | null): Promise<void> {
    if (driver !== null) validateDriverName(driver);
    return this.exclusive(ref, `set driver_override of ${ref.bus} ${ref.id} to ${driver ?? '(none)'}`, async (what) => {
      const path = join(this.devices.deviceLink(ref), 'driver_override');
      if ((await this.devices.driverOf(ref)) === undefined) throw noDevice(ref);
      if (!(await exists(path)))
        throw new KernelActionError('EINVAL', `device ${ref.id} on bus ${ref.bus} has no driver_override`);
      await this.write(path, driver ?? '\n', what, ref);
    });
  }

  private async exclusive<T>(ref: DeviceRef, what: string, action: (what: string) => Promise<T>): Promise<T> {
    validateBusName(ref.bus);
    validateBusId(ref.id);
    const key = deviceKey(ref);
    const busy = this.pending.get(key);
    if (busy) {
      const child = this.runner.liveOn(key);
      const pending = child ? `"${child.what}" (pid ${child.pid})` : `"${busy.what}"`;
      const since = new Date(child?.since ?? busy.since).toISOString();
      throw new KernelActionError(
        'EBUSY',
        `${what} refused: ${pending} has been in progress since ${since}; the kernel holds the device until it returns`,
      );
    }
    this.pending.set(key, { what, since: this.now() });
    try {
      return await action(what);
    } finally {
      this.pending.delete(key);
    }
  }

  private driverFile(bus: string, driver: string, file: 'bind' | 'unbind'): string {
    return join(this.roots.sys, 'bus', bus, 'drivers', driver, file);
  }

  private async timedWrite(
    path: string,
    value: string,
    what: string,
    ref: DeviceRef,
    writing?: () => void,
  ): Promise<ActionReturned> {
    const output = await this.runner
      .run({ what, ...timedWriteCommand(path, value, writing), device: deviceKey(ref) })
      .catch((error: unknown) => {
        throw error instanceof KernelActionError ? timedWriteError(error) : error;
      });
    return { returnedAt: returnedAtOf(output.stdout, this.now, process.hrtime.bigint) };
  }

  private async write(path: string, value: string, what: string, ref: DeviceRef): Promise<void> {
    await this.runner.run({
      what,
      command: this.dd,
      args: [`of=${path}`, 'conv=nocreat,notrunc', 'status=none'],
      input: value,
      device: deviceKey(ref),
    });
  }
}

export function deviceKey(ref: DeviceRef): string {
  return `${ref.bus}/${ref.id}`;
}

function noDevice(ref: DeviceRef): KernelActionError {
  return new KernelActionError('ENOENT', `no device ${ref.id} on bus ${ref.bus}`);
}
