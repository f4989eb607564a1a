import { performance } from 'node:perf_hooks';
import type { RecoveryObservation } from '@hotswap/contracts';
import type { Holder, HolderFilesProbe, KernelPort } from '@hotswap/kernel';
import {
  closeRecoveries,
  identityOf,
  observeRecoveries,
  observeReopens,
  recoverySettled,
  type FileIdentity,
  type RecoveryWatchSpec,
} from '@hotswap/swap';

/** The tight look at the holders' own fds runs at most this often... */
const SIGHT_EVERY_MS = 2;
/** ...and waits this many times as long as its last look took: at most ~1/5 of a CPU on it. */
const SIGHT_IDLE_FACTOR = 4;
/** Looks whose candidates are still being stat'ed; past this, the next look waits for them. */
const SIGHTS_IN_FLIGHT = 8;

/**
 * Watches the holders of a swapped device reopen it. It starts as soon as the device is unbound
 * and runs in the background while the swap goes on, so that an application reopening the new
 * node during load, probe or verify is seen when it does; `finish` sets the deadline once the
 * swap reaches its recovery watch.
 *
 * Two loops share what they find. The full watch polls the holders and their units every
 * `pollMs` (mappings, names, services restarted under another pid, exits). Where the port offers
 * a files probe, a tight loop also looks at the holders' own fds every few milliseconds and
 * stamps each at the moment its fd table was read: a recovery is dated by when it was seen,
 * not by when a slower poll got round to reporting it (DESIGN.md, "recovery time").
 */
export class RecoveryWatch {
  private readonly known: RecoveryObservation[] = [];
  private readonly oldIds: ReadonlySet<FileIdentity>;
  private watched: Holder[] = [];
  private polled = false;
  private lastError: unknown = null;
  private deadline = Number.POSITIVE_INFINITY;
  private stopped = false;
  private ended = false;
  /** The tight loop's looks not reported yet: the full watch lets them report first (they saw earlier). */
  private sightings: Promise<void> = Promise.resolve();
  private readonly polling: Promise<void>;
  private readonly sighting: Promise<void>;

  constructor(
    private readonly port: KernelPort,
    private readonly spec: RecoveryWatchSpec,
    private readonly now: () => number,
    private readonly onObservation: (observation: RecoveryObservation) => void,
  ) {
    this.oldIds = new Set(spec.oldNodes.map(identityOf));
    this.polling = this.poll().finally(() => (this.ended = true));
    const probe = port.filesProbe?.(spec.rdevs);
    this.sighting = probe ? this.sightLoop(probe) : Promise.resolve();
  }

  /** Every holder's observation, once all are back or `deadlineMs` from now has passed. */
  async finish(deadlineMs: number): Promise<RecoveryObservation[]> {
    this.deadline = Math.min(this.deadline, this.now() + deadlineMs);
    await this.polling;
    await this.sighting;
    if (!this.polled) throw this.lastError ?? new Error('the recovery watch could not read the host');
    const left = closeRecoveries(this.spec.tracked, this.known, this.watched);
    left.forEach(this.onObservation);
    return [...this.known, ...left];
  }

  stop(): void {
    this.stopped = true;
  }

  private record(observations: readonly RecoveryObservation[]): void {
    for (const observation of observations) {
      this.known.push(observation);
      this.onObservation(observation);
    }
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      try {
        const watched = await this.port.watch(this.spec.scope, this.spec.rdevs);
        await this.sightings;
        this.watched = watched;
        this.polled = true;
        this.record(observeRecoveries(this.spec.tracked, this.known, this.watched, this.oldIds, this.now()));
        if (recoverySettled(this.spec.tracked, this.known, this.watched)) return;
      } catch (error) {
        this.lastError = error; // retried at the next poll; reported by finish() if none ever worked
      }
      if (this.now() >= this.deadline) return;
      await sleep(this.spec.pollMs);
    }
  }

  /**
   * A look reads the fd tables when `sight()` is called (the probe stamps it then); telling what
   * new links are (a `stat`) may take longer under load. The next look does not wait for that:
   * looks go on every few ms, and their results are reported in the order they were taken.
   */
  private async sightLoop(probe: HolderFilesProbe): Promise<void> {
    // Only those not seen back yet: a recovered one's new fd would be stat'ed at every look.
    const open = (): number[] =>
      this.spec.tracked.filter((t) => !this.known.some((o) => o.pid === t.pid)).map((t) => t.pid);
    const inFlight: Promise<unknown>[] = [];
    for (let pids = open(); !this.stopped && !this.ended && pids.length > 0; pids = open()) {
      if (inFlight.length >= SIGHTS_IN_FLIGHT) await inFlight.shift();
      const started = performance.now();
      const sight = probe.sight(pids);
      const took = performance.now() - started;
      inFlight.push(sight.catch(() => undefined));
      this.sightings = this.sightings
        .then(() => sight)
        .then(
          (sightings) => this.record(observeReopens(this.spec.tracked, this.known, sightings, this.oldIds)),
          () => undefined, // a failed look is retried; the full watch reports what cannot be read
        );
      await sleep(Math.max(SIGHT_EVERY_MS, SIGHT_IDLE_FACTOR * took));
    }
    await this.sightings;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
