/**
 * The API's roles. `operator` can do everything `read-only` can, and change things
 * (start, pause, abort, roll back). There is no admin role: tokens are managed outside the
 * API, in the tokens file or the environment.
 */
export const API_ROLES = ['read-only', 'operator'] as const;
export type ApiRole = (typeof API_ROLES)[number];

const RANK: Readonly<Record<ApiRole, number>> = { 'read-only': 0, operator: 1 };

export const roleSatisfies = (have: ApiRole, need: ApiRole): boolean => RANK[have] >= RANK[need];
