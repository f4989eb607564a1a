/** One record of /dev/kmsg. */
export interface KmsgRecord {
  readonly seq: number;
  /** 0 (emerg) .. 7 (debug). */
  readonly level: number;
  /** 0 = kernel, 1 = user, ... (syslog facility). */
  readonly facility: number;
  /** Microseconds since boot. */
  readonly usec: number;
  /** True when the record continues the previous one ('c' flag, printk without newline). */
  readonly continuation: boolean;
  /** The message as the kernel wrote it (non-printable bytes appear escaped as \xNN). */
  readonly message: string;
  /** Dictionary lines after the record (" SUBSYSTEM=pci", " DEVICE=+pci:0000:03:00.0"). */
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * Parses /dev/kmsg text (Documentation/ABI/testing/dev-kmsg): each record is
 * "PRIO,SEQ,USEC,FLAGS[,...];MESSAGE\n" followed by zero or more " KEY=VALUE\n" lines; PRIO is
 * facility * 8 + level. Works on one record per read (the device) or many (a captured file).
 */
export function parseKmsg(text: string): KmsgRecord[] {
  const out: KmsgRecord[] = [];
  let current: { -readonly [K in keyof KmsgRecord]: KmsgRecord[K] } | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith(' ')) {
      const m = /^ ([^=]+)=(.*)$/.exec(line);
      if (current && m) current.fields = { ...current.fields, [m[1] as string]: m[2] as string };
      continue;
    }
    const m = /^(\d+),(\d+),(\d+),([^;,]*)[^;]*;(.*)$/.exec(line);
    if (!m) continue;
    const prio = Number(m[1]);
    current = {
      seq: Number(m[2]),
      level: prio & 7,
      facility: prio >> 3,
      usec: Number(m[3]),
      continuation: (m[4] as string).includes('c'),
      message: m[5] as string,
      fields: {},
    };
    out.push(current);
  }
  return out;
}
