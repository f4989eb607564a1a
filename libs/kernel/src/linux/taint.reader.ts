import { join } from 'node:path';
import { readKernelFile } from './kernel-file.reader.js';

/** One bit of /proc/sys/kernel/tainted (Documentation/admin-guide/tainted-kernels.rst). */
export interface TaintFlag {
  readonly bit: number;
  readonly letter: string;
  readonly meaning: string;
}

export interface KernelTaint {
  /** The raw value of /proc/sys/kernel/tainted. */
  readonly value: number;
  /** Letters of the set bits, in bit order (e.g. "OE"); empty when untainted. */
  readonly flags: string;
  readonly reasons: readonly TaintFlag[];
}

export const TAINT_FLAGS: readonly TaintFlag[] = [
  { bit: 0, letter: 'P', meaning: 'proprietary module was loaded' },
  { bit: 1, letter: 'F', meaning: 'module was force loaded' },
  { bit: 2, letter: 'S', meaning: 'kernel running on an out of specification system' },
  { bit: 3, letter: 'R', meaning: 'module was force unloaded' },
  { bit: 4, letter: 'M', meaning: 'processor reported a Machine Check Exception' },
  { bit: 5, letter: 'B', meaning: 'bad page referenced or some unexpected page flags' },
  { bit: 6, letter: 'U', meaning: 'taint requested by userspace application' },
  { bit: 7, letter: 'D', meaning: 'kernel died recently, i.e. there was an OOPS or BUG' },
  { bit: 8, letter: 'A', meaning: 'ACPI table overridden by user' },
  { bit: 9, letter: 'W', meaning: 'kernel issued warning' },
  { bit: 10, letter: 'C', meaning: 'staging driver was loaded' },
  { bit: 11, letter: 'I', meaning: 'workaround for bug in platform firmware applied' },
  { bit: 12, letter: 'O', meaning: 'externally-built ("out-of-tree") module was loaded' },
  { bit: 13, letter: 'E', meaning: 'unsigned module was loaded' },
  { bit: 14, letter: 'L', meaning: 'soft lockup occurred' },
  { bit: 15, letter: 'K', meaning: 'kernel has been live patched' },
  { bit: 16, letter: 'X', meaning: 'auxiliary taint, defined for and used by distros' },
  { bit: 17, letter: 'T', meaning: 'kernel was built with the struct randomization plugin' },
  { bit: 18, letter: 'N', meaning: 'an in-kernel test has been run' },
  { bit: 19, letter: 'J', meaning: 'userspace used a mutating debug operation in fwctl' },
];

/** Decodes a taint value; bits the table does not know show as '?'. */
export function decodeTaint(value: number): KernelTaint {
  const reasons: TaintFlag[] = [];
  for (let bit = 0; bit < 64 && 2 ** bit <= value; bit++) {
    if (Math.floor(value / 2 ** bit) % 2 === 0) continue;
    reasons.push(TAINT_FLAGS[bit] ?? { bit, letter: '?', meaning: `unknown taint bit ${bit}` });
  }
  return { value, flags: reasons.map((r) => r.letter).join(''), reasons };
}

/** The kernel's taint now, from PROC/sys/kernel/tainted; null when the file is missing. */
export async function readTaint(procRoot: string): Promise<KernelTaint | null> {
  const text = await readKernelFile(join(procRoot, 'sys', 'kernel', 'tainted'));
  if (text === null || !/^\d+$/.test(text)) return null;
  return decodeTaint(Number(text));
}
