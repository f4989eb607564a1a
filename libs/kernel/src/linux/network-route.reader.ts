import { realpath } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';
import { readKernelFile } from './kernel-file.reader.js';
import type { LinuxRoots } from './linux-roots.js';
import { parseIpv4Routes, parseIpv6Routes, routeInterface } from './route.parser.js';

/** The interface traffic to an address leaves through, and the device behind it (none: virtual). */
export interface RouteDevice {
  readonly iface: string;
  /** Real sysfs directory of the interface's device (`SYS/class/net/IFACE/device`); null for lo, bridges, tunnels. */
  readonly deviceDir: string | null;
}

/**
 * Which network device reaches an address: the route's interface from PROC/net/route (IPv4) or
 * PROC/net/ipv6_route, then `SYS/class/net/IFACE/device`. Loopback addresses go through `lo`.
 */
export class NetworkRouteReader {
  constructor(private readonly roots: LinuxRoots) {}

  async routeDevice(address: string): Promise<RouteDevice | null> {
    const iface = isLoopback(address) ? 'lo' : await this.routeInterface(address);
    if (iface === null) return null;
    const deviceDir = await realpath(join(this.roots.sys, 'class', 'net', iface, 'device')).catch(() => null);
    return { iface, deviceDir };
  }

  private async routeInterface(address: string): Promise<string | null> {
    const v4 = isIPv4(address) || /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address);
    const file = join(this.roots.proc, 'net', v4 ? 'route' : 'ipv6_route');
    const text = await readKernelFile(file);
    if (text === null) return null;
    return routeInterface(v4 ? parseIpv4Routes(text) : parseIpv6Routes(text), address);
  }
}

function isLoopback(address: string): boolean {
  return (isIPv4(address) && address.startsWith('127.')) || (isIPv6(address) && /^(0*:)*:?0*1$/.test(address));
}
