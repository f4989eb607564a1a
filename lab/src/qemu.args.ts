/** How the guest is accelerated: KVM only when a probe boot proved it works on this host. */
export type Accel = 'kvm' | 'tcg';

export interface QemuMachine {
  readonly accel: Accel;
  readonly kernel: string;
  readonly initrd: string;
  readonly memoryMiB: number;
  readonly smp: number;
  /** Unix socket the host listens on; the guest's ttyS1 connects to it. Null: ttyS1 unused. */
  readonly resultsSocket: string | null;
  readonly kernelArgs: readonly string[];
  /** The scenario's devices and backends. */
  readonly extraArgs: readonly string[];
}

/** Kernel command line: console on ttyS0, warnings and worse only, a panic ends the run at once. */
export const BASE_KERNEL_ARGS = ['console=ttyS0', 'loglevel=4', 'panic=-1'];

/**
 * The QEMU command line. No network at all (`-nic none`); the console is the first serial port
 * on stdio, results travel on the second (ttyS1) to the host's socket: never on a virtio port,
 * which a virtio_console swap would cut. `-no-reboot` turns a guest reboot or panic into an exit.
 */
export function qemuArgs(machine: QemuMachine): string[] {
  const cpu = machine.accel === 'kvm' ? [] : ['-cpu', 'max'];
  const results = machine.resultsSocket
    ? ['-chardev', `socket,id=labresults,path=${machine.resultsSocket}`, '-serial', 'chardev:labresults']
    : [];
  return [
    '-accel',
    machine.accel,
    ...cpu,
    '-M',
    'q35',
    '-m',
    String(machine.memoryMiB),
    '-smp',
    String(machine.smp),
    '-nographic',
    '-nic',
    'none',
    '-no-reboot',
    '-serial',
    'mon:stdio',
    ...results,
    '-kernel',
    machine.kernel,
    '-initrd',
    machine.initrd,
    '-append',
    [...BASE_KERNEL_ARGS, ...machine.kernelArgs].join(' '),
    ...machine.extraArgs,
  ];
}
