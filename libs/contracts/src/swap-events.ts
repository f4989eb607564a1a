import { z } from 'zod';
import type { SwapReport, SwapPhase } from './swap-report.js';

/**
 * Events, agent → controller, on the shared event queue. The controller validates the envelope
 * and treats the report as data; an event of an unknown version is rejected loudly.
 */
const envelope = {
  v: z.literal(1),
  rolloutId: z.string().min(1),
  hostId: z.string().min(1),
  swapId: z.string().min(1),
  direction: z.enum(['forward', 'rollback']),
  at: z.number().int().positive(),
};

export const swapStepEventSchema = z.object({
  ...envelope,
  phase: z.string(),
  status: z.enum(['started', 'completed', 'failed', 'blocked']),
  detail: z.string().optional(),
});
export type SwapStepEvent = Omit<z.infer<typeof swapStepEventSchema>, 'phase'> & { phase: SwapPhase };

export const swapResultEventSchema = z.object({
  ...envelope,
  report: z.custom<SwapReport>((value) => typeof value === 'object' && value !== null && 'outcome' in value),
});
export type SwapResultEvent = z.infer<typeof swapResultEventSchema>;
