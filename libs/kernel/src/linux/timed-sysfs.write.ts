import { KernelActionError, type KernelActionErrorCode } from '../kernel-action.error.js';
import type { CommandSpec } from './kernel-action.runner.js';

/**
 * The writer's nice value when it may raise it (root or CAP_SYS_NICE, as the agent runs). The
 * unbind wakes every holder at once (each gets its first error during the write): at the
 * holders' priority, the writer waited behind them, inside remove() and again before its stamp,
 * and dated the return that much late. The look loop of the recovery watch runs at the same
 * nice value (holder-files.look.ts).
 */
const WRITER_NICE = -10;

/**
 * A sysfs write whose return the child that makes it stamps itself: the agent's own Node.js
 * (`process.execPath`, present wherever the agent runs) opens the file without creating or
 * truncating it, writes the value in one write(2), reads CLOCK_MONOTONIC (`process.hrtime`)
 * right after, and prints it. Under QEMU/TCG the agent hears of a `dd` child's exit tens of ms
 * after its write returned (process exit, then the agent's event loop); a Node.js child exits
 * later still, which is why it states the time instead of letting its exit tell it. The
 * price: the child starts a runtime before it writes (~40 ms on a host, 0.3–0.7 s under TCG),
 * so it also says `writing` once the file is open, just before its write(2): a caller's
 * deadline on the write (a blocked unbind) counts from that line, not from the spawn.
 *
 * On failure it prints the errno's name and Node's message and exits 1.
 */
const CHILD_SCRIPT = `
const fs = require('node:fs');
const [path, value] = process.argv.slice(1);
try {
  require('node:os').setPriority(${WRITER_NICE});
} catch {
  // Not allowed (an unprivileged agent, a test): the write runs at the agent's own priority.
}
let written;
try {
  const fd = fs.openSync(path, fs.constants.O_WRONLY);
  process.stdout.write('writing\\n'); // a pipe: written before the next line runs
  written = fs.writeSync(fd, value);
} catch (err) {
  const code = err.code || 'EIO';
  process.stderr.write((err.message.startsWith(code) ? '' : code + ': ') + err.message + '\\n');
  process.exit(1);
}
const returned = process.hrtime.bigint();
if (written !== Buffer.byteLength(value)) {
  process.stderr.write('EIO: short write (' + written + ' of ' + Buffer.byteLength(value) + ' bytes)\\n');
  process.exit(1);
}
process.stdout.write('returned ' + returned + '\\n');
`;

const STABLE_CODES: ReadonlySet<string> = new Set<KernelActionErrorCode>([
  'EBUSY',
  'ENOENT',
  'ENODEV',
  'EEXIST',
  'EINVAL',
  'EIO',
]);

/** The line the child prints just before its write. */
export const WRITING_LINE = 'writing';

/**
 * The command that writes `value` to `path` and reports when its write returned; `writing` is
 * called when the child says it is about to write.
 */
export function timedWriteCommand(
  path: string,
  value: string,
  writing: () => void = () => undefined,
): Pick<CommandSpec, 'command' | 'args' | 'onLine'> {
  return {
    command: process.execPath,
    args: ['-e', CHILD_SCRIPT, path, value],
    onLine: (line) => {
      if (line === WRITING_LINE) writing();
    },
  };
}

/**
 * When the child's write returned, on the agent's clock: `now()` minus how long ago that was
 * on CLOCK_MONOTONIC (the child's `process.hrtime` and ours read the same clock).
 */
export function returnedAtOf(stdout: string, now: () => number, monotonicNs: () => bigint): number {
  const match = /^returned (\d+)$/m.exec(stdout);
  if (!match?.[1]) throw new KernelActionError('EIO', `the sysfs writer printed no return time: ${stdout.trim()}`);
  const agoNs = monotonicNs() - BigInt(match[1]);
  return now() - Number(agoNs) / 1e6;
}

/**
 * A failed timed write with the errno the child named, when it is one of the port's codes
 * (Node's messages are not dd's: "EBUSY: resource busy or locked" matches no text rule).
 */
export function timedWriteError(error: KernelActionError): KernelActionError {
  const named = /(?:^|: )(E[A-Z]+): /m.exec(error.message)?.[1];
  if (named === undefined || !STABLE_CODES.has(named) || named === error.code) return error;
  return new KernelActionError(named as KernelActionErrorCode, error.message);
}
