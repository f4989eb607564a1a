import { WATCHED_MODULES_KEY, type ModuleVersion } from '@hotswap/contracts';
import type { KernelPort } from '@hotswap/kernel';
import { readModuleState } from '../census/module-state.reader.js';
import { withinDeadline } from '../census/within-deadline.js';
import type { ModuleWatchList } from './module-watch.list.js';
import type { RedisClient } from '../queue/redis-connection.js';

/**
 * The versions a heartbeat carries: refreshes the watch list from the modules the controller's
 * runbooks name, then reads each module's version and srcversion from the kernel port (a few
 * sysfs files per module on Linux, cheap enough for every heartbeat), within `deadlineMs` so a
 * kernel port that does not answer never holds the heartbeat back.
 */
export class ModuleVersionReporter {
  constructor(
    private readonly redis: RedisClient,
    private readonly port: KernelPort,
    private readonly watch: ModuleWatchList,
    private readonly deadlineMs: number,
  ) {}

  async read(): Promise<ModuleVersion[]> {
    this.watch.setWatched(await this.redis.smembers(WATCHED_MODULES_KEY));
    const states = await withinDeadline('module versions', this.deadlineMs, () =>
      Promise.all(this.watch.all().map((name) => readModuleState(this.port, name))),
    );
    return states.map(({ name, loaded, version, srcversion }) => ({ name, loaded, version, srcversion }));
  }
}
