import { KernelActionError, type KernelActionErrorCode } from '../kernel-action.error.js';

/**
 * What kmod (modprobe, insmod, rmmod, modinfo), busybox and coreutils' dd print when the kernel
 * refuses, mapped to the port's stable codes. The order matters: "No such device" is tested
 * before "No such file", "in use" before anything else.
 */
const RULES: readonly (readonly [RegExp, KernelActionErrorCode])[] = [
  [/is in use|Resource temporarily unavailable|Device or resource busy/i, 'EBUSY'],
  [/No such device/i, 'ENODEV'],
  [/not found|No such file or directory|is not currently loaded|No such process/i, 'ENOENT'],
  [/File exists|already (loaded|bound)/i, 'EEXIST'],
  [/Invalid argument|is builtin|Invalid parameters|Unknown parameter/i, 'EINVAL'],
];

export function errorCodeOf(output: string): KernelActionErrorCode {
  for (const [pattern, code] of RULES) if (pattern.test(output)) return code;
  return 'EIO';
}

/** A failed command as a KernelActionError whose message says what was attempted and why it failed. */
export function actionError(what: string, output: string, exit: string): KernelActionError {
  const text = lastLines(output.trim(), 6);
  return new KernelActionError(errorCodeOf(text), `${what} failed (${exit})${text ? `: ${text}` : ''}`);
}

function lastLines(text: string, n: number): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const kept = lines.slice(-n).join('; ');
  return kept.length > 2000 ? `...${kept.slice(-2000)}` : kept;
}
