import type { RecoveryObservation } from '@hotswap/contracts';
import type { FilesSighting, Holder, HolderFilesWatch, KernelPort } from '@hotswap/kernel';
import {
  closeRecoveries,
  identityOf,
  observeRecoveries,
  observeReopens,
  recoverySettled,
  type FileIdentity,
  type RecoveryWatchSpec,
} from '@hotswap/swap';

/**
 * Watches the holders of a swapped device reopen it. It starts as soon as the device is unbound
 * and runs in the background while the swap goes on, so that an application reopening the new
 * node during load, probe or verify is seen when it does; `finish` sets the deadline once the
 * swap reaches its recovery watch.
 *
 * Two watches share what they find. The full watch polls the holders and their units every
 * `pollMs` (mappings, names, services restarted under another pid, exits). Where the port offers
 * a files watch, it also looks at the holders' own fds every few milliseconds, off this thread,
 * and dates each sighting at the moment its fd table was read: a recovery is dated by when it
 * was seen, not by when a slower poll (or a busy event loop) got round to reporting it
 * (DESIGN.md, "recovery time"). It follows only the holders not seen back yet.
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
  private readonly files: HolderFilesWatch | null;
  private readonly polling: Promise<void>;

  constructor(
    private readonly port: KernelPort,
    private readonly spec: RecoveryWatchSpec,
    private readonly now: () => number,
    private readonly onObservation: (observation: RecoveryObservation) => void,
  ) {
    this.oldIds = new Set(spec.oldNodes.map(identityOf));
    this.files = port.filesWatch?.(spec.rdevs, this.open(), (sighting) => this.sighted(sighting)) ?? null;
    this.polling = this.poll().finally(() => {
      this.ended = true;
      return this.files?.close();
    });
  }

  /** Every holder's observation, once all are back or `deadlineMs` from now has passed. */
  async finish(deadlineMs: number): Promise<RecoveryObservation[]> {
    this.deadline = Math.min(this.deadline, this.now() + deadlineMs);
    await this.polling;
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
    if (observations.length > 0) this.files?.follow(this.open());
  }

  /** The holders not seen back yet: a recovered one's new fd would be stat'ed at every look. */
  private open(): number[] {
    return this.spec.tracked.filter((t) => !this.known.some((o) => o.pid === t.pid)).map((t) => t.pid);
  }

  private sighted(sighting: FilesSighting): void {
    if (this.ended) return;
    this.record(observeReopens(this.spec.tracked, this.known, [sighting], this.oldIds));
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      try {
        const watched = await this.port.watch(this.spec.scope, this.spec.rdevs);
        // Looks taken while this poll read the host report first: they saw earlier.
        await this.files?.flush();
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
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
