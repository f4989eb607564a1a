import { MAX_REPORTED_MODULES } from '@hotswap/contracts';

/** A module name as the kernel takes it (libs/runbook's rule): it becomes a metric label. */
const MODULE_NAME = /^[A-Za-z0-9_-]{1,55}$/;

/**
 * The modules this agent reports on (their refcount is a metric, their versions go into the
 * heartbeat): those of the runbooks it has swapped or is swapping, and those the controller's
 * runbooks name (WATCHED_MODULES_KEY, read at each heartbeat). Both come from validated runbooks,
 * are checked again here because they become labels, and are capped so the label set stays bounded.
 */
export class ModuleWatchList {
  private readonly swappedNames = new Set<string>();
  private watchedNames: readonly string[] = [];

  /** The module stack of a swap job's runbook (read loosely: the handler validates the runbook). */
  addRunbook(runbook: unknown): void {
    const modules = (runbook as { spec?: { modules?: { name?: unknown }[] } } | null)?.spec?.modules;
    if (!Array.isArray(modules)) return;
    for (const { name } of modules) {
      if (typeof name === 'string' && MODULE_NAME.test(name) && this.swappedNames.size < MAX_REPORTED_MODULES) {
        this.swappedNames.add(name);
      }
    }
  }

  setWatched(names: readonly string[]): void {
    this.watchedNames = names.filter((name) => MODULE_NAME.test(name)).sort();
  }

  /** Every module to report, swapped ones first, at most MAX_REPORTED_MODULES. */
  all(): string[] {
    return [...new Set([...this.swappedNames, ...this.watchedNames])].slice(0, MAX_REPORTED_MODULES);
  }
}
