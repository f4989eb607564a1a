import { isIPv4, isIPv6 } from 'node:net';

/** One route of the main table, as `/proc/net/route` or `/proc/net/ipv6_route` lists it. */
export interface KernelRoute {
  readonly iface: string;
  readonly family: 4 | 6;
  /** Destination and prefix length; the address as a number (IPv4) or bigint (IPv6). */
  readonly destination: bigint;
  readonly prefixLength: number;
  readonly metric: number;
}

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/**
 * `/proc/net/route`: "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", addresses in
 * hex as the kernel stores them (network byte order read as a host-order word: on the little
 * endian machines this runs on, "0100A8C0" is 192.168.0.1). Routes that are down are left out.
 */
export function parseIpv4Routes(text: string): KernelRoute[] {
  const routes: KernelRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if ((parseInt(flags, 16) & RTF_UP) === 0 || (parseInt(flags, 16) & RTF_REJECT) !== 0) continue;
    routes.push({
      iface,
      family: 4,
      destination: BigInt(swap32(parseInt(dest, 16))),
      prefixLength: popcount(parseInt(mask, 16)),
      metric: Number(metric),
    });
  }
  return routes;
}

/** `/proc/net/ipv6_route`: "dest plen src splen nexthop metric refcnt use flags iface", hex. */
export function parseIpv6Routes(text: string): KernelRoute[] {
  const routes: KernelRoute[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^[0-9a-f]{32}$/i.test(f[0] as string)) continue;
    const flags = parseInt(f[8] as string, 16);
    if ((flags & RTF_UP) === 0 || (flags & RTF_REJECT) !== 0) continue;
    routes.push({
      iface: f[9] as string,
      family: 6,
      destination: BigInt(`0x${f[0]}`),
      prefixLength: parseInt(f[1] as string, 16),
      metric: parseInt(f[5] as string, 16),
    });
  }
  return routes;
}

/**
 * The interface the kernel sends packets for `address` through: the longest matching prefix,
 * then the lowest metric (the main routing table; policy rules are not considered). Null when no
 * route matches or the address is not a literal IP.
 */
export function routeInterface(routes: readonly KernelRoute[], address: string): string | null {
  const target = addressValue(address);
  if (!target) return null;
  const bits = target.family === 4 ? 32 : 128;
  let best: KernelRoute | null = null;
  for (const r of routes) {
    if (r.family !== target.family) continue;
    const shift = BigInt(bits - r.prefixLength);
    if (r.prefixLength > 0 && r.destination >> shift !== target.value >> shift) continue;
    if (!best || r.prefixLength > best.prefixLength || (r.prefixLength === best.prefixLength && r.metric < best.metric))
      best = r;
  }
  return best?.iface ?? null;
}

function addressValue(address: string): { family: 4 | 6; value: bigint } | null {
  if (isIPv4(address)) {
    return { family: 4, value: address.split('.').reduce((v, o) => (v << 8n) | BigInt(Number(o)), 0n) };
  }
  if (!isIPv6(address)) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return addressValue(mapped[1] as string);
  const [head = '', tail = ''] = address.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = address.includes('::') ? groups(tail) : [];
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return { family: 6, value: all.reduce((v, g) => (v << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

function swap32(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | ((n >>> 24) & 0xff)) >>> 0;
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n >>> 0; v !== 0; v >>>= 1) count += v & 1;
  return count;
}
