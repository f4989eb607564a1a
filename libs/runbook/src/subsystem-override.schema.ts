import { z } from 'zod';

/**
 * What the runbook says of the devices' subsystem, overriding the agent's table and what it
 * infers on the host (a driver the table does not know, or one whose behaviour differs from its
 * subsystem's usual). Every field is optional: only what is given overrides.
 *
 *   subsystem: { name: vfio }                          # use this row of the table
 *   subsystem: { revokeScheme: wait, fopsOwner: driver, errno: EIO }
 */
export const subsystemOverrideSchema = z.strictObject({
  /** A row of the agent's subsystem table (misc, uio, virtio-console, rdma-uverbs, vfio, drm...). */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'subsystem name: lowercase letters, digits and "-" (e.g. vfio)' })
    .optional(),
  /** revoke: the unbind returns and open files fail; wait: the unbind blocks until every file is closed. */
  revokeScheme: z.enum(['revoke', 'wait']).optional(),
  /** driver: each open file pins the driver module; subsystem: only the subsystem's module. */
  fopsOwner: z.enum(['driver', 'subsystem']).optional(),
  /** What calls on zombie FDs fail with (reported as predicted). */
  errno: z
    .string()
    .regex(/^E[A-Z0-9]+$/, { error: 'errno: a name like ENODEV or EIO' })
    .optional(),
});
export type SubsystemOverride = z.output<typeof subsystemOverrideSchema>;
