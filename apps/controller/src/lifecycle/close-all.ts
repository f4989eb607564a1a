import type { Logger } from '../logging/controller.logger.js';

/**
 * Runs every close step even when one fails or hangs (as BullMQ's Worker.close does), and
 * logs what failed. A step gets `timeoutMs`: shutdown must end even if Redis is gone.
 */
export async function closeAll(
  steps: Readonly<Record<string, () => Promise<unknown>>>,
  logger: Logger,
  timeoutMs = 5000,
): Promise<void> {
  await Promise.all(
    Object.entries(steps).map(async ([what, step]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not close within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([step(), timeout]);
      } catch (error) {
        logger.warn({ what, error: (error as Error).message }, 'close step failed');
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

/** Memoises a close so calling it twice (two signals, two hooks) closes once. */
export function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | null = null;
  return () => (closing ??= close());
}
