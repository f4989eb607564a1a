import { z } from 'zod';
import { stringTypeError } from './value-description.js';

/**
 * A short identifier that ends up in sysfs paths, procfs lookups or a command's argv (module,
 * driver and bus names, versions, host names). The rule explains *why* a value is refused:
 * "contains '/'" is actionable, "does not match ^[A-Za-z0-9_-]{1,55}$" much less so.
 */
export interface TokenRule {
  /** What the value is, for messages: "module name". */
  readonly what: string;
  readonly pattern: RegExp;
  readonly maxLength: number;
  /** The characters allowed, in words: "letters, digits, '_' and '-'". */
  readonly allowed: string;
  /** Where the value goes, which is why path and argv characters are refused. */
  readonly reaches: string;
}

export function explainToken(rule: TokenRule, value: string): string | undefined {
  const shown = JSON.stringify(value);
  if (value.length === 0) return `${rule.what} is empty`;
  if (value.includes('/')) return `${rule.what} ${shown} contains '/': ${rule.reaches}, so it must be a bare name`;
  if (value.includes('..')) return `${rule.what} ${shown} contains '..': ${rule.reaches}, so it must be a bare name`;
  if (/\s/.test(value)) return `${rule.what} ${shown} contains whitespace: ${rule.reaches}, where it would split`;
  if (/\p{Cc}/u.test(value)) return `${rule.what} ${shown} contains a control character: ${rule.reaches}`;
  if (value.startsWith('-')) {
    return `${rule.what} ${shown} starts with '-': ${rule.reaches}, where it would read as an option`;
  }
  if (value.length > rule.maxLength) {
    return `${rule.what} ${shown} is ${value.length} characters long; at most ${rule.maxLength} are allowed`;
  }
  if (!rule.pattern.test(value)) return `${rule.what} ${shown} is not valid: ${rule.allowed}`;
  return undefined;
}

export function tokenSchema(rule: TokenRule) {
  return z.string({ error: stringTypeError(rule.what) }).superRefine((value, ctx) => {
    const why = explainToken(rule, value);
    if (why !== undefined) ctx.addIssue({ code: 'custom', message: why, input: value });
  });
}
