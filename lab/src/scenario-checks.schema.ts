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
  /** The agent's recovery figure against each application's own: median and worst |difference|. */
  z.strictObject({
    check: z.literal('agent-matches-apps'),
    medianWithinMs: z.number().positive(),
    maxWithinMs: z.number().positive(),
  }),
]);
export type Check = z.output<typeof checkSchema>;
