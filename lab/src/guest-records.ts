import { z } from 'zod';

/**
 * The lines the guest sends on ttyS1 (see test/kernel/guest/init and refapp.c). Times are the
 * guest's CLOCK_MONOTONIC in milliseconds.
 */
const ms = z.number();
const span = { startAt: ms, endAt: ms };

export const appStartSchema = z.looseObject({
  t: z.literal('app-start'),
  name: z.string(),
  pid: z.number().int(),
  node: z.string(),
  op: z.string(),
  holdMs: z.number(),
  openedAt: ms,
  realtimeMs: ms,
  monotonicMs: ms,
});
export type AppStart = z.output<typeof appStartSchema>;

export const appCycleSchema = z.looseObject({
  t: z.literal('cycle'),
  name: z.string(),
  pid: z.number().int(),
  cycle: z.number().int(),
  errno: z.string(),
  errorAt: ms,
  /** Read just before close(): what the close's release wakes may run before closedAt is read. */
  closingAt: ms,
  closedAt: ms,
  reopenAt: ms,
  recoveryMs: ms,
  openErrors: z.array(z.string()),
  openAttempts: z.number().int(),
});
export type AppCycle = z.output<typeof appCycleSchema>;

/** An application's end: refapp writes it on SIGTERM/SIGINT (or after --cycles), never on SIGKILL. */
export const appEndSchema = z.looseObject({
  t: z.literal('app-end'),
  name: z.string(),
  pid: z.number().int(),
  cycles: z.number().int(),
  at: ms,
  holding: z.boolean(),
});
export type AppEnd = z.output<typeof appEndSchema>;

/** lab-watch: a watched module's sysfs state, whenever it changed ("absent": not loaded). */
export const moduleSampleSchema = z.looseObject({
  t: z.literal('mod'),
  name: z.string(),
  at: ms,
  state: z.string(),
  refcnt: z.number().int(),
  version: z.string(),
  srcversion: z.string(),
  holders: z.string(),
});
export type ModuleSample = z.output<typeof moduleSampleSchema>;

/** lab-watch: a watched path appeared or vanished. */
export const pathSampleSchema = z.looseObject({ t: z.literal('path'), path: z.string(), at: ms, exists: z.boolean() });
export type PathSample = z.output<typeof pathSampleSchema>;

const recordSchema = z.discriminatedUnion('t', [
  z.looseObject({ t: z.literal('init'), at: ms, release: z.string(), uptime: z.string(), scenario: z.string() }),
  z.looseObject({ t: z.literal('modules-loaded'), ...span, tainted: z.number() }),
  z.looseObject({ t: z.literal('agent-smoke'), exit: z.number().int(), ...span }),
  appStartSchema,
  z.looseObject({ t: z.literal('apps-ready'), at: ms }),
  z.looseObject({ t: z.literal('cycle-start'), cycle: z.number().int(), variant: z.number().int().default(0), at: ms }),
  appCycleSchema,
  z.looseObject({
    t: z.literal('swap'),
    cycle: z.number().int(),
    exit: z.number().int(),
    ...span,
    settledAt: ms,
    settled: z.boolean(),
  }),
  appEndSchema,
  moduleSampleSchema,
  pathSampleSchema,
  z.looseObject({ t: z.literal('done'), at: ms }),
  z.looseObject({ t: z.literal('fatal'), msg: z.string() }),
]);
export type GuestRecord = z.output<typeof recordSchema>;
export type RecordOf<T extends GuestRecord['t']> = Extract<GuestRecord, { t: T }>;

/** Raw output lines of cycle N: the swap command's stdout and stderr tail, the dry run's stdout. */
export type RawKind = 'swap-out' | 'swap-err' | 'dry-run';

/** One parsed line: a record, a line of the swap command's output, or something unexpected. */
export type GuestLine =
  | { readonly kind: 'record'; readonly record: GuestRecord; readonly hostMs: number }
  | { readonly kind: RawKind; readonly cycle: number; readonly text: string }
  | { readonly kind: 'garbled'; readonly text: string; readonly error: string };

const RAW = /^@(swap-out|swap-err|dry-run) (\d+) ?(.*)$/;

export function parseGuestLine(text: string, hostMs = 0): GuestLine | null {
  if (text.trim() === '') return null;
  const raw = RAW.exec(text);
  if (raw) return { kind: raw[1] as RawKind, cycle: Number(raw[2]), text: raw[3] ?? '' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'garbled', text, error: (error as Error).message };
  }
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) return { kind: 'garbled', text, error: parsed.error.issues[0]?.message ?? 'invalid record' };
  return { kind: 'record', record: parsed.data, hostMs };
}
