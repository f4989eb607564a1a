import { KernelActionError } from '../kernel-action.error.js';

/**
 * Every value that reaches a sysfs path or a command line is checked here first, so a runbook
 * (or a bug) cannot make the agent write to `../../something` or pass an option to modprobe.
 * Refusals are KernelActionError('EINVAL') naming the value and the reason.
 */

export type KernelNameKind = 'module name' | 'driver name' | 'bus name' | 'bus id';

const MAX_NAME = 255;
/** MODULE_NAME_LEN is 64 including the terminating NUL (kernel 6.x: 56 on older ones). */
const MAX_MODULE_NAME = 55;

/** Why `value` is not a safe sysfs path component, or null when it is. */
function componentProblem(value: string): string | null {
  if (value.length === 0) return 'it is empty';
  if (value.length > MAX_NAME) return `it is longer than ${MAX_NAME} characters`;
  if (value === '.' || value === '..') return 'it is a relative path component';
  if (value.includes('/')) return "it contains '/'";
  if (value.includes('..')) return "it contains '..'";
  if (/\s/.test(value)) return 'it contains whitespace';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) return 'it contains a control character';
  if (/[^\x21-\x7e]/.test(value)) return 'it contains a character outside printable ASCII';
  if (value.startsWith('-')) return "it starts with '-' (it would read as a command option)";
  return null;
}

function refuse(kind: string, value: string, why: string): KernelActionError {
  return new KernelActionError('EINVAL', `invalid ${kind} ${JSON.stringify(value)}: ${why}`);
}

/** Checks a driver name, bus name or bus id; throws KernelActionError('EINVAL') when unsafe. */
export function validateKernelName(kind: KernelNameKind, value: string): string {
  if (typeof value !== 'string') throw refuse(kind, String(value), 'it is not a string');
  const problem = componentProblem(value);
  if (problem) throw refuse(kind, value, problem);
  if (kind === 'module name') {
    if (value.length > MAX_MODULE_NAME) throw refuse(kind, value, `it is longer than ${MAX_MODULE_NAME} characters`);
    if (!/^[A-Za-z0-9_-]+$/.test(value)) throw refuse(kind, value, 'module names have only letters, digits, _ and -');
  }
  if (kind === 'bus name' && !/^[A-Za-z0-9_.-]+$/.test(value))
    throw refuse(kind, value, 'bus names have only letters, digits, _, . and -');
  return value;
}

export const validateModuleName = (value: string): string => validateKernelName('module name', value);
export const validateDriverName = (value: string): string => validateKernelName('driver name', value);
export const validateBusName = (value: string): string => validateKernelName('bus name', value);
export const validateBusId = (value: string): string => validateKernelName('bus id', value);

/**
 * A module parameter `name=value` (or a bare `name` for a boolean) as modprobe/insmod take it.
 * The name is a C identifier (dots allowed for `module.param`); the value has no control
 * characters and the whole does not start with '-'. A value with spaces must be quoted
 * (`name="a b"`), as the kernel's parse_args splits on unquoted spaces.
 */
export function validateModuleParam(param: string): string {
  const kind = 'module parameter';
  if (typeof param !== 'string' || param.length === 0) throw refuse(kind, String(param), 'it is empty');
  if (param.length > 4096) throw refuse(kind, param, 'it is longer than 4096 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(param)) throw refuse(kind, param, 'it contains a control character');
  const eq = param.indexOf('=');
  const name = eq === -1 ? param : param.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name))
    throw refuse(kind, param, `its name ${JSON.stringify(name)} is not a parameter name`);
  const value = eq === -1 ? '' : param.slice(eq + 1);
  const quoted = /^"[^"]*"$/.test(value);
  if (!quoted && /\s/.test(value)) throw refuse(kind, param, 'its value has whitespace but is not quoted');
  return param;
}

/** An absolute path to a module file for insmod/modinfo: no '..' components, no options. */
export function validateModuleFile(file: string): string {
  const kind = 'module file';
  if (typeof file !== 'string' || file.length === 0) throw refuse(kind, String(file), 'it is empty');
  if (!file.startsWith('/')) throw refuse(kind, file, 'it is not an absolute path');
  if (file.length > 4096) throw refuse(kind, file, 'it is longer than 4096 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(file)) throw refuse(kind, file, 'it contains a control character');
  if (file.split('/').some((part) => part === '..' || part === '.'))
    throw refuse(kind, file, "it has a '.' or '..' component");
  if (!/\.ko(\.(xz|zst|gz))?$/.test(file)) throw refuse(kind, file, 'it does not end in .ko (or .ko.xz/.zst/.gz)');
  return file;
}

/** A pid to signal: a positive integer above 1 (0, -1 and negatives would signal groups). */
export function validatePid(pid: number): number {
  if (!Number.isSafeInteger(pid) || pid <= 1)
    throw refuse('pid', String(pid), 'a pid is an integer greater than 1 (never init, never a group)');
  return pid;
}
