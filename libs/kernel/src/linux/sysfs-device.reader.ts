import { lstat, readdir, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BoundDevice, DeviceNode, DeviceQuery, DeviceRef } from '../kernel.port.js';
import { parseRdev } from './dev-number.codec.js';
import { DeviceNodeResolver, type SysfsNodeEntry } from './device-node.resolver.js';
import type { NodeStatFn } from './device-node.stat.js';
import { isAbsent, listDir, readLinkName, readOptionalKernelFile } from './kernel-file.reader.js';
import { validateBusId, validateBusName, validateDriverName } from './kernel-name.validator.js';
import type { LinuxRoots } from './linux-roots.js';

/** A `dev` attribute under a device's sysfs subtree. */
export interface SysfsNode extends SysfsNodeEntry {
  /** The class directory it sits in (`misc`, `infiniband_verbs`, `virtio-ports`, `uio`, `vfio`...). */
  readonly sysfsClass: string | null;
  /** Its sysfs directory (e.g. `/sys/devices/.../virtio-ports/vport1p1`). */
  readonly sysfsDir: string;
}

/** A node of a device with the sysfs class it belongs to (for the subsystem table). */
export interface ClassifiedNode {
  readonly node: DeviceNode;
  readonly sysfsClass: string | null;
}

const MAX_DEPTH = 6;
/** Entries of a driver directory that are links but not devices. */
const NOT_DEVICES = new Set(['module']);

/**
 * Devices, drivers and device nodes from sysfs:
 * - `SYS/bus/BUS/drivers/DRIVER/ID` links name the devices bound to DRIVER;
 * - `SYS/bus/BUS/devices/ID` is the device (a link into `SYS/devices/...`), its `driver` link
 *   names the bound driver, `vendor`/`device` its ids (PCI, virtio);
 * - every `dev` file ("MAJ:MIN") under the device's own directory tree is a node it exposes
 *   (e.g. `virtio-ports/vport1p1/dev`, `misc/hsmisc0/dev`, `infiniband_verbs/uverbs0/dev`),
 *   plus the VFIO group node of its `iommu_group` when one exists. Symlinks are never followed
 *   (sysfs is full of links back up the tree).
 */
export class SysfsDeviceReader {
  constructor(
    private readonly roots: LinuxRoots,
    private readonly statNode: NodeStatFn,
  ) {}

  async findDevices(query: DeviceQuery): Promise<BoundDevice[]> {
    validateBusName(query.bus);
    validateDriverName(query.driver);
    const driverDir = join(this.roots.sys, 'bus', query.bus, 'drivers', query.driver);
    const ids: string[] = [];
    for (const name of await listDir(driverDir)) {
      if (NOT_DEVICES.has(name)) continue;
      const st = await lstat(join(driverDir, name)).catch(() => null);
      if (st?.isSymbolicLink()) ids.push(name);
    }
    const resolver = this.resolver();
    const found: BoundDevice[] = [];
    for (const id of ids) {
      const device = await this.read({ bus: query.bus, id }, resolver);
      if (!device || device.driver !== query.driver) continue;
      if (query.vendor !== undefined && !sameId(device.vendor, query.vendor)) continue;
      if (query.device !== undefined && !sameId(device.device, query.device)) continue;
      found.push(device);
    }
    return found;
  }

  /** One device, bound or not; null when the bus has no such device. */
  device(ref: DeviceRef): Promise<BoundDevice | null> {
    return this.read(ref, this.resolver());
  }

  /** The device's nodes with their sysfs class, whether or not the driver is bound. */
  async classifiedNodes(ref: DeviceRef): Promise<ClassifiedNode[]> {
    const dir = await this.deviceDir(ref);
    if (!dir) return [];
    const resolver = this.resolver();
    const out: ClassifiedNode[] = [];
    for (const entry of await this.sysfsNodes(dir)) {
      const node = await resolver.resolve(entry);
      if (node) out.push({ node, sysfsClass: entry.sysfsClass });
    }
    return out;
  }

  /** The bound driver's name; null when unbound; undefined when there is no such device. */
  async driverOf(ref: DeviceRef): Promise<string | null | undefined> {
    const link = this.deviceLink(ref);
    if (!(await readLinkName(link))) return undefined;
    return readLinkName(join(link, 'driver'));
  }

  /** `driver_override` of the device (PCI, platform...): null when unset or not supported. */
  async driverOverride(ref: DeviceRef): Promise<string | null> {
    const value = await readOptionalKernelFile(join(this.deviceLink(ref), 'driver_override'));
    return value === null || value === '' || value === '(null)' ? null : value;
  }

  /** The real directory of a device under `SYS/devices`, or null when it does not exist. */
  async deviceDir(ref: DeviceRef): Promise<string | null> {
    try {
      return await realpath(this.deviceLink(ref));
    } catch (err) {
      if (isAbsent(err)) return null;
      throw err;
    }
  }

  deviceLink(ref: DeviceRef): string {
    validateBusName(ref.bus);
    validateBusId(ref.id);
    return join(this.roots.sys, 'bus', ref.bus, 'devices', ref.id);
  }

  /** Every `dev` attribute under the device's directory tree, plus its VFIO group's. */
  async sysfsNodes(deviceDir: string): Promise<SysfsNode[]> {
    const out: SysfsNode[] = [];
    await this.walk(deviceDir, 0, out);
    const group = await readLinkName(join(deviceDir, 'iommu_group'));
    if (group !== null) {
      const vfioDir = join(this.roots.sys, 'class', 'vfio', group);
      const entry = await this.nodeAt(await realpath(vfioDir).catch(() => vfioDir));
      if (entry) out.push({ ...entry, sysfsClass: 'vfio' });
    }
    return out;
  }

  private resolver(): DeviceNodeResolver {
    return new DeviceNodeResolver(this.roots.dev, this.statNode);
  }

  private async read(ref: DeviceRef, resolver: DeviceNodeResolver): Promise<BoundDevice | null> {
    const dir = await this.deviceDir(ref);
    if (!dir) return null;
    const driver = await readLinkName(join(dir, 'driver'));
    const nodes: DeviceNode[] = [];
    if (driver !== null) {
      for (const entry of await this.sysfsNodes(dir)) {
        const node = await resolver.resolve(entry);
        if (node && !nodes.some((n) => n.rdev === node.rdev && n.path === node.path)) nodes.push(node);
      }
    }
    const vendor = await readOptionalKernelFile(join(dir, 'vendor'));
    const device = await readOptionalKernelFile(join(dir, 'device'));
    return {
      bus: ref.bus,
      id: ref.id,
      driver,
      nodes,
      ...(vendor !== null ? { vendor } : {}),
      ...(device !== null ? { device } : {}),
    };
  }

  private async walk(dir: string, depth: number, out: SysfsNode[]): Promise<void> {
    const entry = await this.nodeAt(dir);
    if (entry) out.push(entry);
    if (depth >= MAX_DEPTH) return;
    let children;
    try {
      children = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    children.sort((a, b) => a.name.localeCompare(b.name));
    for (const child of children) {
      if (child.isDirectory() && child.name !== 'power') await this.walk(join(dir, child.name), depth + 1, out);
    }
  }

  /** The node described by `dir/dev` and `dir/uevent`, if `dir` has a `dev` attribute. */
  private async nodeAt(dir: string): Promise<SysfsNode | null> {
    const text = await readOptionalKernelFile(join(dir, 'dev'));
    const rdev = text === null ? null : parseRdev(text);
    if (!rdev) return null;
    const uevent = (await readOptionalKernelFile(join(dir, 'uevent'))) ?? '';
    const devname = /^DEVNAME=(.+)$/m.exec(uevent)?.[1]?.trim() ?? null;
    const subsystem = await readLinkName(join(dir, 'subsystem')).catch(() => null);
    const parent = basename(dirname(dir));
    const sysfsClass = subsystem ?? parent;
    const kind = sysfsClass === 'block' || parent === 'block' ? 'block' : 'char';
    return { rdev, kind, devname, sysfsClass, sysfsDir: dir };
  }
}

function sameId(actual: string | undefined, wanted: string): boolean {
  return actual !== undefined && actual.toLowerCase() === wanted.toLowerCase();
}
