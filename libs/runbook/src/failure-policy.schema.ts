import { z } from 'zod';

/**
 * What a failed host or a breached gate does to the rollout:
 * - pause: stop starting hosts until an operator resumes, aborts or rolls back;
 * - rollback-host: swap the failed host back, let the others continue;
 * - rollback-all: swap back every host done so far.
 */
export const FAILURE_POLICIES = ['pause', 'rollback-host', 'rollback-all'] as const;
export const failurePolicySchema = z.enum(FAILURE_POLICIES).default('pause');
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];
