import type { DeviceQuery, LoadSpec } from '@hotswap/kernel';
import type { Runbook, SubsystemOverride } from '@hotswap/runbook';

/**
 * What one host's swap needs from the runbook, in the units the state machine works in
 * (milliseconds). Derived once, so the machine does not depend on the runbook's layout.
 */
export interface SwapPlan {
  /** Unload order: top of the stack first. */
  readonly modules: readonly string[];
  /** Load order: bottom of the stack first (the reverse of `modules`). */
  readonly loads: readonly LoadSpec[];
  readonly devices: DeviceQuery;
  readonly unbindDeadlineMs: number;
  readonly zombieCloseDeadlineMs: number;
  readonly actionDeadlineMs: number;
  readonly recoveryWatchMs: number;
  readonly pollMs: number;
  readonly blockedUnbind: { readonly policy: 'fail' | 'signal'; readonly graceMs: number };
  readonly hooks: { readonly pre: readonly HookSpec[]; readonly post: readonly HookSpec[] };
  /** The runbook's word on the subsystem: overrides the table and the host's inference. */
  readonly subsystem?: SubsystemOverride;
}

/** A runbook hook as the agent runs it: argv in a PTY, prompts answered, a deadline. */
export interface HookSpec {
  readonly name: string;
  readonly argv: readonly string[];
  readonly shell: boolean;
  readonly timeoutMs: number;
  readonly expect: readonly { readonly prompt: string; readonly answer: string }[];
  readonly successExitCodes: readonly number[];
}

export function planFromRunbook(runbook: Runbook): SwapPlan {
  const { spec } = runbook;
  const loads: LoadSpec[] = spec.modules
    .map((step): LoadSpec => {
      const { target } = step;
      return 'file' in target
        ? { module: step.name, file: target.file, params: target.params }
        : { module: step.name, version: target.version, params: target.params };
    })
    .reverse();
  const seconds = (s: number): number => Math.round(s * 1000);
  return {
    modules: spec.modules.map((step) => step.name),
    loads,
    devices: {
      bus: spec.devices.bus,
      driver: spec.devices.driver,
      ...(spec.devices.vendor === undefined ? {} : { vendor: spec.devices.vendor }),
      ...(spec.devices.device === undefined ? {} : { device: spec.devices.device }),
    },
    unbindDeadlineMs: seconds(spec.deadlines.unbindSeconds),
    zombieCloseDeadlineMs: seconds(spec.deadlines.zombieCloseSeconds),
    actionDeadlineMs: seconds(spec.deadlines.actionSeconds),
    recoveryWatchMs: seconds(spec.deadlines.recoveryWatchSeconds),
    pollMs: spec.recovery.pollMilliseconds,
    blockedUnbind: { policy: spec.blockedUnbind.policy, graceMs: seconds(spec.blockedUnbind.graceSeconds) },
    hooks: {
      pre: spec.hooks.pre.map((h) => ({ ...h, timeoutMs: seconds(h.timeoutSeconds) })),
      post: spec.hooks.post.map((h) => ({ ...h, timeoutMs: seconds(h.timeoutSeconds) })),
    },
    ...(spec.subsystem === undefined ? {} : { subsystem: spec.subsystem }),
  };
}
