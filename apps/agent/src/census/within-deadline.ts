/** Thrown when a read of the kernel did not answer in time. */
export class ReadDeadlineError extends Error {
  readonly code = 'READ_DEADLINE';

  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'ReadDeadlineError';
  }
}

/**
 * Read-only kernel reads for heartbeats and scrapes: a host whose kernel port does not answer
 * (a simulated host stopped, a sysfs read stuck) must not stall the heartbeat or the scrape.
 * The read itself is left to finish on its own; only the caller stops waiting.
 */
export async function withinDeadline<T>(what: string, ms: number, read: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReadDeadlineError(what, ms)), ms);
  });
  try {
    return await Promise.race([read(), late]);
  } finally {
    clearTimeout(timer);
  }
}
