import { predictFromRefcnt, type FopsOwner, type LoadedModule } from '@hotswap/kernel';

/** What the host's refcounts say of who owns the file operations of the stack's devices. */
export interface FopsInference {
  readonly owner: FopsOwner | null;
  /** The stack module the open files pin, when one does. */
  readonly module: string | null;
  readonly reason: string;
}

/**
 * Compares each loaded stack module's references (less those of dependent modules) with the
 * open files on the devices' nodes: a module holding at least one reference per open file owns
 * their file operations ('driver'); when none holds any, the files pin a module outside the
 * stack ('subsystem'). With no open file the refcounts tell nothing.
 */
export function inferFopsOwner(loaded: readonly (LoadedModule | null)[], openFiles: number): FopsInference {
  const modules = loaded.filter((m): m is LoadedModule => m !== null);
  if (modules.length === 0) return { owner: null, module: null, reason: 'no module of the stack is loaded' };
  const verdicts = modules.map((m) => ({
    module: m.name,
    ...predictFromRefcnt([{ refcnt: m.refcnt, holderModules: m.holders.length, openFiles }]),
  }));
  const pinned = verdicts.find((v) => v.owner === 'driver');
  if (pinned) return { owner: 'driver', module: pinned.module, reason: `${pinned.module}: ${pinned.reason}` };
  if (verdicts.every((v) => v.owner === 'subsystem')) {
    return {
      owner: 'subsystem',
      module: null,
      reason: `${openFiles} open file(s) and no stack module holds a reference beyond its dependent modules`,
    };
  }
  return { owner: null, module: null, reason: verdicts.map((v) => `${v.module}: ${v.reason}`).join('; ') };
}
