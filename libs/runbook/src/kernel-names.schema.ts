import { z } from 'zod';
import { tokenSchema } from './kernel-token.schema.js';
import { stringTypeError } from './value-description.js';

/**
 * Names the kernel sees. Each reaches a sysfs path (`/sys/module/NAME`,
 * `/sys/bus/BUS/drivers/DRIVER/unbind`) or modprobe's argv, so path and argv characters are
 * refused with the reason, not just a pattern.
 */

/** The kernel's MODULE_NAME_LEN is 64 - sizeof(unsigned long): 55 characters and a NUL. */
export const moduleNameSchema = tokenSchema({
  what: 'module name',
  pattern: /^[A-Za-z0-9_-]{1,55}$/,
  maxLength: 55,
  allowed: "use letters, digits, '_' and '-'",
  reaches: 'it becomes /sys/module/<name> and an argument to modprobe',
});

export const driverNameSchema = tokenSchema({
  what: 'driver name',
  pattern: /^[A-Za-z0-9_.-]{1,64}$/,
  maxLength: 64,
  allowed: "use letters, digits, '_', '.' and '-'",
  reaches: 'it becomes /sys/bus/<bus>/drivers/<driver>',
});

export const busNameSchema = tokenSchema({
  what: 'bus name',
  pattern: /^[A-Za-z0-9_-]{1,32}$/,
  maxLength: 32,
  allowed: "use letters, digits, '_' and '-'",
  reaches: 'it becomes /sys/bus/<bus>',
});

/** A version modprobe resolves (e.g. "5.9-1", "24.10-1.1.4", "2.0+hs~rc1"). */
export const moduleVersionSchema = tokenSchema({
  what: 'module version',
  pattern: /^[A-Za-z0-9._+~:-]{1,64}$/,
  maxLength: 64,
  allowed: 'use letters, digits and . _ + ~ : -',
  reaches: 'it selects a module file and reaches modprobe',
});

const MODULE_PARAM = /^[A-Za-z0-9_]+(=[^\s]*)?$/;

/** One module parameter, passed to modprobe as one argument: `name` or `name=value`. */
export const moduleParamSchema = z.string({ error: stringTypeError('module parameter') }).superRefine((value, ctx) => {
  const shown = JSON.stringify(value);
  if (/\p{Cc}/u.test(value)) {
    ctx.addIssue({ code: 'custom', message: `module parameter ${shown} contains a control character` });
  } else if (/\s/.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `module parameter ${shown} contains whitespace: each entry is one argument to modprobe; write one parameter per entry`,
    });
  } else if (!MODULE_PARAM.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `module parameter ${shown} is not valid: write name or name=value, the name in letters, digits and '_'`,
    });
  }
});

/** A PCI-style vendor or device id as sysfs shows it: "0x15b3". */
export const hexIdSchema = (what: string) =>
  z.string({ error: stringTypeError(what) }).regex(/^0x[0-9a-fA-F]{4}$/, {
    error: (iss) => `${what} ${JSON.stringify(iss.input)} is not valid: write 0x and four hex digits, e.g. "0x15b3"`,
  });
