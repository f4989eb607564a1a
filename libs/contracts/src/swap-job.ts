import { z } from 'zod';

/**
 * A swap job, controller → agent, on the host's own queue. The runbook travels whole (the agent
 * validates it with libs/runbook: contracts stay independent of the runbook's schema).
 * `notAfter` (epoch ms) is the job's expiry: an agent that picks it up later refuses it, so an
 * agent back after hours never runs a stale swap.
 */
export const swapJobSchema = z.object({
  v: z.literal(1),
  rolloutId: z.string().min(1),
  hostId: z.string().min(1),
  direction: z.enum(['forward', 'rollback']),
  runbook: z.unknown(),
  notAfter: z.number().int().positive(),
  enqueuedAt: z.number().int().positive(),
});
export type SwapJob = z.infer<typeof swapJobSchema>;
