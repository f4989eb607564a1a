/** What other packages may use of the controller: the shapes its API answers with. */
export type { RolloutView, HostView, RolloutSummary, RolloutListItem } from './rollouts/rollout.view.js';
export type { RolloutState, HostStep } from './rollouts/rollout.record.js';
export type { HostProgress } from './rollouts/next-sequential-step.js';
export type { RegisteredHost } from './hosts/host-heartbeat.decoder.js';
export type { ErrorBody } from './http/error-response.filter.js';
