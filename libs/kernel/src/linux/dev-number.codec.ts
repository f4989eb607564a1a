/**
 * Device numbers. Node's `fs.Stats.rdev`/`dev` is the glibc `dev_t` as a number; the kernel's
 * sysfs `dev` files and the port's identity use "MAJOR:MINOR" in decimal; `/proc/PID/maps`
 * prints "major:minor" in hex. Decoding follows glibc's gnu_dev_major/gnu_dev_minor:
 *   major = bits 8..19 | bits 44..63 (>> 32),  minor = bits 0..7 | bits 20..43 (>> 12).
 */

const TWO_POW_32 = 2 ** 32;

export function devMajor(dev: number | bigint): number {
  if (typeof dev === 'number' && dev < TWO_POW_32) return (dev >>> 8) & 0xfff;
  const d = BigInt(dev);
  return Number(((d & 0xfff00n) >> 8n) | ((d & 0xfffff00000000000n) >> 32n));
}

export function devMinor(dev: number | bigint): number {
  if (typeof dev === 'number' && dev < TWO_POW_32) return (dev & 0xff) | ((dev >>> 12) & 0xfff00);
  const d = BigInt(dev);
  return Number((d & 0xffn) | ((d & 0xffffff00000n) >> 12n));
}

/** glibc's gnu_dev_makedev, as a bigint (exact for every major and minor). */
export function makeDev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** A `dev_t` as the port writes it: "MAJOR:MINOR", decimal. */
export function formatDev(dev: number | bigint): string {
  return `${devMajor(dev)}:${devMinor(dev)}`;
}

/** "fe:01" (hex, as in /proc/PID/maps) to "254:1"; null when malformed. */
export function hexDevToRdev(hex: string): string | null {
  const m = /^([0-9a-f]+):([0-9a-f]+)$/i.exec(hex);
  if (!m) return null;
  return `${parseInt(m[1] as string, 16)}:${parseInt(m[2] as string, 16)}`;
}

/** "MAJ:MIN" as read from a sysfs `dev` file (trailing newline allowed); null when malformed. */
export function parseRdev(text: string): string | null {
  const m = /^\s*(\d+):(\d+)\s*$/.exec(text);
  return m ? `${Number(m[1])}:${Number(m[2])}` : null;
}
