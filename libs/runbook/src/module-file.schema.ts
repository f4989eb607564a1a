import { z } from 'zod';
import { stringTypeError } from './value-description.js';

const MODULE_FILE_SUFFIX = /\.ko(\.(xz|zst|gz))?$/;
const PATH_MAX = 4095;

/** The path with empty and "." segments removed: what the user most likely meant. */
function normalized(path: string): string {
  return (
    '/' +
    path
      .split('/')
      .filter((segment) => segment !== '' && segment !== '.')
      .join('/')
  );
}

/**
 * Why a module file path is refused, or undefined. The path reaches insmod/modprobe's argv and
 * the journal, and is compared with what the kernel reports, so it must be absolute and written
 * in exactly one way.
 */
export function explainModuleFile(path: string): string | undefined {
  const shown = JSON.stringify(path);
  if (path.length === 0) return 'module file path is empty';
  if (!path.startsWith('/')) return `module file ${shown} must be an absolute path (starting with '/')`;
  if (/\p{Cc}/u.test(path)) return `module file ${shown} contains a control character`;
  if (/\s/.test(path))
    return `module file ${shown} contains whitespace: it reaches a command line, where it would split`;
  if (path.length > PATH_MAX)
    return `module file path is ${path.length} characters long; at most ${PATH_MAX} are allowed`;
  if (path.split('/').includes('..')) return `module file ${shown} contains a '..' segment: write the path without it`;
  if (normalized(path) !== path) {
    return `module file ${shown} is not normalized: write ${JSON.stringify(normalized(path))}`;
  }
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (!MODULE_FILE_SUFFIX.test(base) || base.replace(MODULE_FILE_SUFFIX, '') === '') {
    return `module file ${shown} must name a kernel module: <name>.ko, .ko.xz, .ko.zst or .ko.gz`;
  }
  return undefined;
}

export const moduleFileSchema = z.string({ error: stringTypeError('module file') }).superRefine((path, ctx) => {
  const why = explainModuleFile(path);
  if (why !== undefined) ctx.addIssue({ code: 'custom', message: why });
});
