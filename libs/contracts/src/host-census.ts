import { z } from 'zod';
import type { HolderSummary } from './swap-report.js';

/**
 * A live census, controller → agent → controller: which devices a driver has on the host, the
 * state of a module stack, and which processes hold the devices now. Asked by GET
 * /v1/hosts/:id/holders and by a dry run.
 *
 * Census jobs go on the host's own `census` queue, under the same prefix (hash tag) as its swap
 * queue, not on the swap queue itself: a swap can hold the swap queue for minutes, and a
 * census must answer within seconds even then. The agent's answer is the job's return value;
 * the controller polls the job (one blocking listener per host queue would cost a connection
 * per host). `notAfter` (epoch ms) is short: an agent that picks the job up later refuses it,
 * since nobody waits for the answer any more.
 *
 * `devices` and `modules` are validated by the agent with libs/runbook's schemas (as a swap
 * job's runbook is): `devices` is a runbook's `spec.devices`; `modules` a list of
 * `{ name, target? }` as in `spec.modules`, top of the stack first, where a target is resolved
 * (the file modprobe would load, its version and srcversion) without loading anything.
 */
export const CENSUS_QUEUE = 'census';
export const JOB_CENSUS = 'census';

export const censusJobSchema = z.object({
  v: z.literal(1),
  hostId: z.string().min(1),
  devices: z.unknown(),
  modules: z.unknown(),
  notAfter: z.number().int().positive(),
  requestedAt: z.number().int().positive(),
});
export type CensusJob = z.infer<typeof censusJobSchema>;

/** A device of the census: bound (driver and nodes) or not. */
export interface CensusDevice {
  readonly bus: string;
  readonly id: string;
  readonly driver: string | null;
  readonly nodes: readonly { readonly path: string; readonly rdev: string }[];
}

/**
 * A module as the kernel shows it now. `refcnt` is `/sys/module/NAME/refcnt` (dependent
 * modules plus references held by open files); `holders` the modules that depend on it.
 */
export interface ModuleState {
  readonly name: string;
  readonly loaded: boolean;
  readonly version: string | null;
  readonly srcversion: string | null;
  readonly refcnt: number | null;
  readonly holders: readonly string[];
}

/** What a runbook's target resolves to on this host, or why it does not. */
export type CensusTarget =
  | {
      readonly module: string;
      readonly file: string;
      readonly version: string | null;
      readonly srcversion: string | null;
    }
  | { readonly module: string; readonly error: string };

export interface HostCensus {
  readonly v: 1;
  readonly hostId: string;
  readonly at: number;
  readonly devices: readonly CensusDevice[];
  /** The modules asked about and the modules that depend on them, top of the stack first. */
  readonly modules: readonly ModuleState[];
  readonly holders: readonly HolderSummary[];
  readonly targets: readonly CensusTarget[];
}

/** The controller reads the answer of another process (possibly another version): check its shape. */
export const hostCensusSchema = z.custom<HostCensus>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    (value as { v?: unknown }).v === 1 &&
    ['devices', 'modules', 'holders', 'targets'].every((key) => Array.isArray((value as Record<string, unknown>)[key])),
);
