/**
 * The programs kernel actions run as children. Bare names are looked up on PATH; tests point
 * them at fake scripts. `dd` performs sysfs writes: it reports the errno as text ("No such
 * device"), writes the value in one write(2), and with `conv=nocreat,notrunc` never creates or
 * truncates a file.
 */
export interface LinuxCommands {
  readonly modprobe: string;
  readonly insmod: string;
  readonly modinfo: string;
  readonly dd: string;
}

export const defaultLinuxCommands: LinuxCommands = {
  modprobe: 'modprobe',
  insmod: 'insmod',
  modinfo: 'modinfo',
  dd: 'dd',
};
