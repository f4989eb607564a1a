import { z } from 'zod';

/**
 * What a scenario can check, as data. Each check states what it needs; a check whose
 * evidence the run did not produce (the agent's figures when the guest ran the shell swap)
 * is reported as skipped, with the reason, never as passed.
 */
export const checkSchema = z.discriminatedUnion('check', [
  /** Every swap cycle's command exited 0. */
  z.strictObject({ check: z.literal('swaps-succeed') }),
  /** Every application reported one error -> reopen cycle per swap cycle. */
  z.strictObject({ check: z.literal('apps-recover-every-cycle') }),
  /** The first errno each application saw, every cycle. */
  z.strictObject({ check: z.literal('app-errno'), errno: z.string().regex(/^E[A-Z0-9]+$/) }),
  /** Bounds on one application's own recovery figure (first error -> reopen), every cycle. */
  z.strictObject({
    check: z.literal('app-recovery'),
    app: z.string(),
    atLeastMs: z.number().nonnegative().optional(),
    atMostMs: z.number().positive().optional(),
  }),
  /**
   * Before the unbind, `holders` FDs held the device's nodes; right after it, at least
   * `minZombies` of them were zombies (link "... (deleted)"). An application that closes its
   * zombie at once may be gone before anyone looks: count only those that hold it.
   */
  z.strictObject({
    check: z.literal('holders-then-zombies'),
    holders: z.number().int().positive(),
    /** Default: every holder. */
    minZombies: z.number().int().nonnegative().optional(),
  }),
  /** While a zombie FD stayed open, unloading the module was refused (refcount > 0). */
  z.strictObject({ check: z.literal('unload-refused-while-zombies') }),
  /** The module was unloaded within `withinMs` of the last zombie's close (application's clock). */
  z.strictObject({ check: z.literal('unload-after-last-close'), withinMs: z.number().positive() }),
  /** The loaded module's srcversion equals the target file's (read on the host with modinfo). */
  z.strictObject({ check: z.literal('srcversion-matches-target') }),
  /**
   * The loaded module's version (lab-watch, after each cycle) equals the target file's
   * `modinfo -F version` and differs from the version loaded before the cycle.
   */
  z.strictObject({ check: z.literal('version-matches-target') }),
  /** The driver module was gone (lab-watch) while at least one application still held its zombie. */
  z.strictObject({ check: z.literal('unload-while-zombies') }),
  /**
   * `module` stayed loaded through every cycle, its refcount covering every zombie still open
   * while the swapped module was gone (the zombies pin it, not the driver).
   */
  z.strictObject({ check: z.literal('module-pinned'), module: z.string().regex(/^[A-Za-z0-9_-]+$/) }),
  /**
   * The wait scheme: the unbind was reported blocked at the runbook's deadline (not before),
   * naming exactly the `holders` application processes that held the device.
   */
  z.strictObject({
    check: z.literal('unbind-blocked'),
    holders: z.number().int().positive(),
    /**
     * A path that vanishes as soon as the unbind write reaches the driver (its class device,
     * e.g. /sys/class/misc/hs_lab0, when remove() deregisters it first): lab-watch's moment for
     * it is when the deadline starts. Without it, the agent's unbind step start stands in.
     */
    writeMarker: z
      .string()
      .regex(/^\/\S+$/)
      .optional(),
    /** How late after the deadline the report may come (the agent polls its children). */
    withinMs: z.number().positive().default(1000),
  }),
  /**
   * Each blocked holder ended by SIGTERM after the deadline (refapp reports app-end only on
   * SIGTERM or SIGINT; SIGKILL leaves no line), and the unbind returned after the last one.
   * `killed`: applications that ignore SIGTERM (refapp --ignore-sigterm): they must end by the
   * SIGKILL after the runbook's grace period, and the unbind return only then.
   */
  z.strictObject({ check: z.literal('holders-signalled'), killed: z.array(z.string()).default([]) }),
  /** Every cycle, each `recovers: restart` application's next instance held the new node. */
  z.strictObject({ check: z.literal('apps-restart-every-cycle') }),
  /** Every cycle's swap failed with this outcome (default failed-restored) and a non-zero exit. */
  z.strictObject({
    check: z.literal('swaps-fail'),
    outcome: z.enum(['failed-restored', 'failed', 'refused']).default('failed-restored'),
  }),
  /**
   * Policy fail: the module was never unloaded and kept its version, the old driver was bound
   * again only after the holders closed, and every application reopened its node.
   */
  z.strictObject({ check: z.literal('old-driver-rebound') }),
  /**
   * The agent's dry run, run in the guest before the first cycle of each runbook variant: it
   * would swap, and each prediction (unbind returns or blocks, unload free or waits, errno)
   * matches what the cycle showed (lab-watch, the applications' errnos, the blocked unbind).
   */
  z.strictObject({ check: z.literal('dry-run-predictions') }),
  /** The agent's recovery figure against each application's own: median and worst |difference|. */
  z.strictObject({
    check: z.literal('agent-matches-apps'),
    medianWithinMs: z.number().positive(),
    maxWithinMs: z.number().positive(),
  }),
]);
export type Check = z.output<typeof checkSchema>;
