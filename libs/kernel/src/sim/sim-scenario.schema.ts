/**
 * A simulated host, as a scenario file describes it (YAML or JSON). Every object is strict:
 * an unknown key is an error, so a typo never silently means "default".
 *
 *   host: host-a                      # name of the host
 *   seed: 42                          # seeds the RNG of process jitter (default 1)
 *   timing: { unbindMs, unloadMs, loadMs, probeMs }   # latency of each kernel action (defaults 5/10/20/10)
 *   modules:                          # loaded at boot (dependencies first is not required)
 *     - { name, version, srcversion, file, dependsOn: [..], params: [..] }
 *     - { name, version: null, builtin: true }         # built-in: never unloadable, no file
 *   moduleFiles:                      # more .ko files modinfo/modprobe can see (boot files are implicit)
 *     - { module, file, version, srcversion, dependsOn: [..], default: true }
 *   drivers:   - { name, module, bus }
 *   devices:
 *     - bus: platform
 *       id: hs_misc.0
 *       driver: hs_misc               # the driver that matches it (probe, auto-probe after load)
 *       bound: true                   # bound to that driver at boot (default true)
 *       vendor: "0x15b3"              # optional ids, matched by findDevices
 *       device: "0x1017"
 *       node: { path: /dev/hsmisc0, major: 240, minor: 0, class: misc }   # exists while bound;
 *                                     # class: its sysfs class on a real host (optional; picks the
 *                                     # agent's subsystem table row, never the sim's behaviour)
 *       revoke: revoke                # revoke | wait (default revoke)
 *       errno: ENODEV                 # what zombie FDs fail with: ENODEV | EIO (default ENODEV)
 *       fopsOwner: driver             # driver | subsystem (default driver)
 *       fopsModule: hs_core           # required with (and only with) fopsOwner: subsystem
 *   processes:
 *     - pid: 1201                     # optional, else allocated
 *       comm: app-fast
 *       unit: app-fast.service        # optional (null)
 *       opens: [/dev/hsmisc0, { path: /dev/hsmisc1, mmap: true }]
 *       onError:                      # default { action: ignore }
 *         action: reopen              # reopen | ignore | exit | restart
 *         closeAfterMs: 0             # when it closes the failing FD / exits
 *         reopenDelayMs: 800          # first open attempt after the error (reopen; restart: not before spawn)
 *         jitterMs: 200               # + uniform [0, jitterMs]
 *         retryMs: 10                 # retry period while open fails (ENOENT, ENODEV)
 *         restartDelayMs: 0           # restart: exit -> new process
 *   faults:
 *     - { kind: unbind-hangs, device: hs_misc.0 }
 *     - { kind: load-fails, module: hs_misc, file: /lib/..., times: 1 }
 *     - { kind: probe-fails, device: hs_misc.0, driverVersion: "2.0", times: 1 }   # times: default forever
 *     - { kind: unload-fails, module: hs_misc, times: 1 }
 *   (a fault's `device` may carry `bus` when ids repeat across buses)
 *
 * Cross references are checked after the shape (see sim-scenario.references.ts).
 */
import { LineCounter, isNode, parseDocument } from 'yaml';
import { z } from 'zod';
import { SimScenarioError } from './sim-scenario.error.js';
import { checkScenarioReferences } from './sim-scenario.references.js';

const identifier = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "-" or "." (a kernel module, driver or bus name)');
const text = z.string().min(1);
const ms = z.number().int().nonnegative();
const absolutePath = z.string().regex(/^\/\S*$/, 'an absolute path');
const devPath = z.string().regex(/^\/dev\/\S+$/, 'a path under /dev');
const version = z.string({ error: 'a string or null (quote versions: "1.0")' }).nullable().default(null);

const timingSchema = z.strictObject({
  unbindMs: ms.default(5),
  unloadMs: ms.default(10),
  loadMs: ms.default(20),
  probeMs: ms.default(10),
});

const bootModuleSchema = z.strictObject({
  name: identifier,
  version,
  srcversion: version,
  file: absolutePath.optional(),
  dependsOn: z.array(identifier).default([]),
  params: z.array(z.string().regex(/^[^=\s]+=\S*$/, 'name=value')).default([]),
  builtin: z.boolean().default(false),
});

const moduleFileSchema = z.strictObject({
  module: identifier,
  file: absolutePath,
  version,
  srcversion: version,
  dependsOn: z.array(identifier).default([]),
  default: z.boolean().default(false),
});

const driverSchema = z.strictObject({ name: identifier, module: identifier, bus: identifier });

const deviceSchema = z.strictObject({
  bus: identifier,
  id: text,
  driver: identifier,
  bound: z.boolean().default(true),
  vendor: text.optional(),
  device: text.optional(),
  node: z.strictObject({
    path: devPath,
    major: z.number().int().min(0).max(4095),
    minor: z.number().int().min(0).max(1048575),
    class: identifier.optional(),
  }),
  revoke: z.enum(['revoke', 'wait']).default('revoke'),
  errno: z.enum(['ENODEV', 'EIO']).default('ENODEV'),
  fopsOwner: z.enum(['driver', 'subsystem']).default('driver'),
  fopsModule: identifier.optional(),
});

const onErrorSchema = z.strictObject({
  action: z.enum(['reopen', 'ignore', 'exit', 'restart']),
  closeAfterMs: ms.default(0),
  reopenDelayMs: ms.default(0),
  jitterMs: ms.default(0),
  retryMs: z.number().int().positive().default(10),
  restartDelayMs: ms.default(0),
});

const openSchema = z
  .union([devPath, z.strictObject({ path: devPath, mmap: z.boolean().default(false) })])
  .transform((o) => (typeof o === 'string' ? { path: o, mmap: false } : o));

const processSchema = z.strictObject({
  pid: z.number().int().min(2).max(4194304).optional(),
  comm: z.string().min(1).max(15, 'at most 15 characters (TASK_COMM_LEN)'),
  unit: text.nullable().default(null),
  opens: z.array(openSchema).default([]),
  onError: onErrorSchema.prefault({ action: 'ignore' }),
});

const deviceFault = { device: text, bus: identifier.optional() };
const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('unbind-hangs'), ...deviceFault }),
  z.strictObject({
    kind: z.literal('load-fails'),
    module: identifier,
    file: absolutePath.optional(),
    times: z.number().int().positive().default(1),
  }),
  z.strictObject({
    kind: z.literal('probe-fails'),
    ...deviceFault,
    driverVersion: z.string().optional(),
    times: z.number().int().positive().optional(),
  }),
  z.strictObject({
    kind: z.literal('unload-fails'),
    module: identifier,
    times: z.number().int().positive().default(1),
  }),
]);

export const simScenarioSchema = z
  .strictObject({
    host: text,
    seed: z.number().int().default(1),
    timing: timingSchema.prefault({}),
    modules: z.array(bootModuleSchema).default([]),
    moduleFiles: z.array(moduleFileSchema).default([]),
    drivers: z.array(driverSchema).default([]),
    devices: z.array(deviceSchema).default([]),
    processes: z.array(processSchema).default([]),
    faults: z.array(faultSchema).default([]),
  })
  .superRefine((scenario, ctx) => {
    for (const issue of checkScenarioReferences(scenario)) ctx.addIssue({ code: 'custom', ...issue });
  });

/** A validated scenario, defaults filled in. */
export type SimScenario = z.output<typeof simScenarioSchema>;
/** What a scenario file may say (defaults optional). */
export type SimScenarioInput = z.input<typeof simScenarioSchema>;
export type SimTiming = SimScenario['timing'];
export type SimBootModule = SimScenario['modules'][number];
export type SimModuleFile = SimScenario['moduleFiles'][number];
export type SimDriverSpec = SimScenario['drivers'][number];
export type SimDeviceSpec = SimScenario['devices'][number];
export type SimProcessSpec = SimScenario['processes'][number];
export type SimOnError = SimProcessSpec['onError'];
export type SimOpenSpec = SimProcessSpec['opens'][number];
export type SimFault = SimScenario['faults'][number];

/** Validates an already parsed object (tests build scenarios in code). Throws SimScenarioError. */
export function validateScenario(input: unknown): SimScenario {
  return toScenario(input, () => null);
}

/** Parses a scenario file (YAML, or JSON which is YAML too). Throws SimScenarioError naming fields and lines. */
export function parseScenario(text: string): SimScenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SimScenarioError(
      doc.errors.map((e) => ({
        path: '(syntax)',
        line: lines.linePos(e.pos[0]).line,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  return toScenario(doc.toJS(), (path) => {
    // The deepest node that exists: a missing key points at the object that lacks it.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return null;
  });
}

function toScenario(input: unknown, lineOf: (path: PropertyKey[]) => number | null): SimScenario {
  const result = simScenarioSchema.safeParse(input);
  if (result.success) return result.data;
  throw new SimScenarioError(
    result.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      line: lineOf(issue.path),
      message: issue.message,
    })),
  );
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
