import type { SimClock } from './sim.clock.js';

/** What happened. Kernel actions, then what processes did with their files. */
export type SimActionKind =
  | 'boot'
  | 'unbind-start' // the unbind write began (wait scheme: holders were asked to release)
  | 'unbind-done' // the device is unbound and its node removed
  | 'zombie' // an open file lost its device (revoke scheme)
  | 'probe-failed' // a bind or auto-probe failed; the device stays unbound
  | 'bind' // a driver bound the device; its node exists again (new inode)
  | 'load'
  | 'load-failed'
  | 'unload-start' // refcnt was 0: the module is going (its devices get unbound first)
  | 'unload'
  | 'unload-refused'
  | 'notify' // a process saw the error (revoke) or the release request (wait)
  | 'open'
  | 'open-failed'
  | 'close' // close(2) of an fd
  | 'munmap' // a mapping of a device node dropped
  | 'signal'
  | 'exit'
  | 'spawn'
  | 'internal-error'; // a bug in the simulator, never expected

export interface SimActionEntry {
  /** Index in the log (`actionLog(since)` takes one). */
  readonly seq: number;
  /** Epoch ms. */
  readonly t: number;
  /** Monotonic ms (sim host clock): use it for orderings and durations. */
  readonly mono: number;
  readonly kind: SimActionKind;
  readonly bus?: string;
  readonly device?: string;
  readonly driver?: string;
  readonly module?: string;
  readonly version?: string | null;
  readonly pid?: number;
  readonly comm?: string;
  readonly fd?: number;
  readonly path?: string;
  readonly rdev?: string;
  readonly ino?: number;
  readonly errno?: string;
  readonly detail?: string;
}

/** The name other packages know it by. */
export type SimActionLogEntry = SimActionEntry;

export type SimActionFields = Omit<SimActionEntry, 'seq' | 't' | 'mono' | 'kind'>;

/** Append-only, timestamped record of everything the simulated kernel did. */
export class SimActionLog {
  private readonly entries: SimActionEntry[] = [];

  constructor(private readonly clock: SimClock) {}

  record(kind: SimActionKind, fields: SimActionFields = {}): SimActionEntry {
    const entry = { seq: this.entries.length, t: this.clock.now(), mono: this.clock.monotonic(), kind, ...fields };
    this.entries.push(entry);
    return entry;
  }

  since(seq = 0): SimActionEntry[] {
    return this.entries.slice(Math.max(0, seq));
  }
}
