/**
 * The kernel's per-device mutex (device_lock). An unbind holds it for as long as remove()
 * runs, which in the wait scheme is until the last file closes, or forever when it hangs.
 */
export class DeviceLock {
  private holder = false;
  private readonly queue: (() => void)[] = [];

  get held(): boolean {
    return this.holder;
  }

  /** Takes the lock now, or returns null when it is held. */
  tryAcquire(): (() => void) | null {
    if (this.holder) return null;
    this.holder = true;
    return this.releaser();
  }

  /** Waits for the lock (a second unbind queues behind the first, as in the kernel). */
  acquire(): Promise<() => void> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => this.queue.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.holder = false;
    };
  }
}
