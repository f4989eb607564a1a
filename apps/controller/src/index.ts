/** What other packages may use of the controller: the shapes its API answers with. */
export type { RolloutView, HostView, RolloutSummary, RolloutListItem } from './rollouts/rollout.view.js';
export type { RolloutState, HostStep, HostProgress } from './rollouts/rollout.record.js';
export type { RolloutPlan } from './rollouts/rollout.service.js';
export type { RunbookListItem } from './runbooks/runbook.controller.js';
export type { StoredRunbook } from './runbooks/runbook.store.js';
export type { HostDetail } from './hosts/host.controller.js';
export type { RegisteredHost } from './hosts/host-heartbeat.decoder.js';
export type { ErrorBody } from './http/error-response.filter.js';
