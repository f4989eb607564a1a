/** A module as it is loaded now: enough to load it back exactly. */
export interface RollbackModule {
  readonly name: string;
  readonly version: string | null;
  readonly srcversion: string | null;
  /** The file it was loaded from (`modinfo` filename); null when the kernel does not say. */
  readonly file: string | null;
  readonly params: readonly string[];
  /** 'stack': the runbook unloads it; 'dependency': `modprobe -r` removes it as it becomes unused. */
  readonly why: 'stack' | 'dependency';
}
