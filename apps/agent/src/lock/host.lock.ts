import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export class HostBusyError extends Error {
  readonly code = 'HOST_BUSY';
  constructor(readonly holderPid: number) {
    super(`another swap is running on this host (agent pid ${holderPid} holds the host lock)`);
    this.name = 'HostBusyError';
  }
}

/**
 * One swap at a time per host, shared by the daemon and the one-host `swap` command: a lock
 * file created with O_EXCL holding the owner's pid. A lock whose owner is dead is stale and
 * taken over (an agent killed mid-swap must not lock the host out of its own recovery).
 */
export class HostLock {
  private held = false;

  constructor(private readonly dir: string) {}

  async acquire(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(this.path, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.sync();
        await handle.close();
        this.held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number.parseInt(await readFile(this.path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) throw new HostBusyError(owner);
      await unlink(this.path).catch(() => undefined);
    }
    throw new Error(`could not take the host lock ${this.path}`);
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await unlink(this.path).catch(() => undefined);
  }

  private get path(): string {
    return join(this.dir, 'host.lock');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
