import type { RecoveryObservation } from '@hotswap/contracts';
import type { Holder, KernelPort } from '@hotswap/kernel';
import { closeRecoveries, identityOf, observeRecoveries, recoverySettled, type RecoveryWatchSpec } from '@hotswap/swap';

/**
 * Watches the holders of a swapped device reopen it, polling only those processes (and their
 * units). It starts as soon as the device is unbound and runs in the background while the swap
 * goes on, so that an application reopening the new node during load, probe or verify is seen
 * when it does; `finish` sets the deadline once the swap reaches its recovery watch.
 */
export class RecoveryWatch {
  private readonly known: RecoveryObservation[] = [];
  private watched: Holder[] = [];
  private polled = false;
  private lastError: unknown = null;
  private deadline = Number.POSITIVE_INFINITY;
  private stopped = false;
  private readonly polling: Promise<void>;

  constructor(
    private readonly port: KernelPort,
    private readonly spec: RecoveryWatchSpec,
    private readonly now: () => number,
    private readonly onObservation: (observation: RecoveryObservation) => void,
  ) {
    this.polling = this.poll();
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

  private async poll(): Promise<void> {
    const oldIds = new Set(this.spec.oldNodes.map(identityOf));
    while (!this.stopped) {
      try {
        this.watched = await this.port.watch(this.spec.scope, this.spec.rdevs);
        this.polled = true;
        for (const observation of observeRecoveries(this.spec.tracked, this.known, this.watched, oldIds, this.now())) {
          this.known.push(observation);
          this.onObservation(observation);
        }
        if (recoverySettled(this.spec.tracked, this.known, this.watched)) return;
      } catch (error) {
        this.lastError = error; // retried at the next poll; reported by finish() if none ever worked
      }
      if (this.now() >= this.deadline) return;
      await new Promise((resolve) => setTimeout(resolve, this.spec.pollMs));
    }
  }
}
