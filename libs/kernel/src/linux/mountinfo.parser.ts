/** A line of /proc/PID/mountinfo (Documentation/filesystems/proc.rst, 3.5). */
export interface MountEntry {
  /** "MAJ:MIN" of the mounted filesystem's st_dev (0:N for virtual and some multi-device fs). */
  readonly rdev: string;
  readonly mountPoint: string;
  readonly fstype: string;
  readonly source: string;
}

/**
 * "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue":
 * the optional fields end at " - ", then fstype, source, super options. Paths escape space,
 * tab, newline and backslash as octal (\040).
 */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const l = left.split(' ');
    const r = right.split(' ');
    if (l.length < 6 || r.length < 2 || !/^\d+:\d+$/.test(l[2] as string)) continue;
    out.push({
      rdev: l[2] as string,
      mountPoint: unescapeOctal(l[4] as string),
      fstype: r[0] as string,
      source: unescapeOctal(r[1] as string),
    });
  }
  return out;
}

/** /proc/swaps: the swap partitions and files ("Filename Type Size Used Priority"). */
export function parseSwaps(text: string): { path: string; type: string }[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && f[0] !== '')
    .map((f) => ({ path: unescapeOctal(f[0] as string), type: f[1] as string }));
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
