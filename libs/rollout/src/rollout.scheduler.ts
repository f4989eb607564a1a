import { isWithinWindows, nextWindowOpening } from './maintenance-window.clock.js';
import { resolveMaxUnavailable } from './rollout-spec.mapper.js';
import { FAILED_OUTCOMES, foldHistory, TOUCHED_OUTCOMES, type History } from './rollout.history.js';
import type { DecideInput, Decision, HostInfo, HostStart, RolloutState, Wave } from './rollout.types.js';
import { evaluateSloGate } from './slo.gate.js';

/** How long a Prometheus gate that did not pass waits before it is queried again. */
export const PROMETHEUS_RETRY_MS = 30_000;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const list = (ids: readonly string[]): string =>
  ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')}, …`;

/** A host already runs the target when its srcversion (or, lacking one, version) matches, or the caller says so. */
function onTarget(host: HostInfo): boolean {
  if (host.onTarget !== undefined) return host.onTarget;
  if (host.targetSrcversion && host.currentSrcversion) return host.targetSrcversion === host.currentSrcversion;
  return !!host.targetVersion && host.targetVersion === host.currentVersion;
}

/**
 * What to start next, in the spirit of system-upgrade-controller's SelectConcurrentNodes: keep
 * what is in flight, fill up to the limits in a deterministic order, and say why nothing more
 * starts. Pure: everything comes from the events, the host set and `now`, so any controller
 * replica, restarted or not, decides the same.
 *
 * Forward: a canary (wave 0) then waves of at most `maxUnavailable` hosts and `domainCap.max`
 * per domain; a wave ends when each of its hosts has a result, then its SLO gate is recorded,
 * then the Prometheus gate (if any) must pass, then the pause between waves runs out. Waves are
 * formed as they open, from the hosts still pending, so a host that comes back or a withdrawn
 * job simply joins the open wave. Every start, forward or rollback, is subject to the same
 * caps: hosts in flight plus unavailable hosts stay within `maxUnavailable`, hosts in flight per
 * domain within the cap, and nothing starts outside the maintenance windows.
 */
export function decide(input: DecideInput): Decision {
  const { rollout, hosts, events, now } = input;
  const history = foldHistory(events, rollout.failurePolicy);
  const info = new Map(hosts.map((host) => [host.id, host]));
  const label = rollout.strategy.domainCap?.label;
  const cap = rollout.strategy.domainCap?.max ?? Infinity;
  const limit = resolveMaxUnavailable(rollout.strategy.maxUnavailable, hosts.length);
  // Hosts without the label share one domain: with an unknown rack, assume the same rack.
  const domainOf = (id: string): string => (label === undefined ? '' : (info.get(id)?.labels[label] ?? ''));
  const order = (a: string, b: string): number => compare(domainOf(a), domainOf(b)) || compare(a, b);
  const record = (id: string) => history.hosts.get(id);
  const available = (id: string): boolean => info.get(id)?.available === true;

  const inFlight = [...history.hosts].filter(([, host]) => host.inFlight !== null).map(([id]) => id);
  const preSkipped = hosts.filter((host) => !record(host.id)?.startedForward && onTarget(host)).map((h) => h.id);
  const skippedSet = new Set(preSkipped);
  const pending = hosts
    .map((host) => host.id)
    .filter((id) => !record(id)?.startedForward && !skippedSet.has(id))
    .sort(order);
  const outcomeHosts = (predicate: (id: string) => boolean): string[] =>
    [...history.hosts.keys()].filter(predicate).sort(order);
  const failed = outcomeHosts((id) => FAILED_OUTCOMES.has(record(id)?.forwardOutcome ?? 'succeeded'));
  const report = {
    skipped: [...preSkipped, ...outcomeHosts((id) => record(id)?.forwardOutcome === 'skipped')].sort(order),
    expired: outcomeHosts(
      (id) => record(id)?.forwardOutcome === 'expired' || record(id)?.rollbackOutcome === 'expired',
    ),
    failed,
  };

  // Hosts in flight and selected hosts that are down both count against maxUnavailable (once).
  const occupied = new Set([...inFlight, ...hosts.filter((host) => !host.available).map((host) => host.id)]);
  const admit = (candidates: readonly HostStart[]): HostStart[] => {
    let budget = limit - occupied.size;
    const perDomain = new Map<string, number>();
    for (const id of inFlight) perDomain.set(domainOf(id), (perDomain.get(domainOf(id)) ?? 0) + 1);
    const admitted: HostStart[] = [];
    for (const candidate of candidates) {
      if (budget <= 0) break;
      const domain = domainOf(candidate.hostId);
      const busy = perDomain.get(domain) ?? 0;
      if (!available(candidate.hostId) || record(candidate.hostId)?.inFlight || busy >= cap) continue;
      admitted.push(candidate);
      perDomain.set(domain, busy + 1);
      budget--;
    }
    return admitted;
  };
  /** Why hosts wait, once `started` more are in flight. */
  const capsNote = (started: number): string => {
    const down = hosts.filter((host) => !host.available).length;
    const domains = label === undefined ? '' : `, at most ${cap} per ${label}`;
    return `${inFlight.length + started} in flight, ${down} unavailable, maxUnavailable ${limit}${domains}`;
  };

  // The forward waves, from the events: hosts keep the wave their job was enqueued with.
  const members = new Map<number, string[]>();
  for (const [id, host] of history.hosts) {
    if (host.startedForward && host.wave !== null) members.set(host.wave, [...(members.get(host.wave) ?? []), id]);
  }
  const sizeOf = (wave: number): number => (wave === 0 ? rollout.strategy.canary : limit);
  /** The hosts that join `wave` next, in order, up to its size and the per-wave domain cap. */
  const fill = (wave: number, from: readonly string[], already: readonly string[]): string[] => {
    const picked: string[] = [];
    const perDomain = new Map<string, number>();
    for (const id of already) perDomain.set(domainOf(id), (perDomain.get(domainOf(id)) ?? 0) + 1);
    const room = (): number => sizeOf(wave) - already.length - picked.length;
    for (const id of from) {
      if (room() <= 0) break;
      if ((perDomain.get(domainOf(id)) ?? 0) >= cap) continue;
      picked.push(id);
      perDomain.set(domainOf(id), (perDomain.get(domainOf(id)) ?? 0) + 1);
    }
    // The canary is a number of hosts, not a concurrency: spread it across domains when it can
    // be, complete it from the same domains otherwise (the caps still serialise it).
    if (wave === 0) for (const id of from) if (room() > 0 && !picked.includes(id)) picked.push(id);
    return picked;
  };
  const planned = (fromWave: number, open: readonly string[]): Wave[] => {
    const waves: Wave[] = [];
    // Available hosts first: that is the order in which they will be started.
    let rest = [...pending.filter(available), ...pending.filter((id) => !available(id))].filter(
      (id) => !open.includes(id),
    );
    for (let wave = fromWave; rest.length > 0; wave++) {
      const hostsOfWave = fill(wave, rest, []);
      if (hostsOfWave.length === 0 && wave === 0) continue; // a canary of 0
      if (hostsOfWave.length === 0) break;
      rest = rest.filter((id) => !hostsOfWave.includes(id));
      waves.push({ index: wave, kind: wave === 0 ? 'canary' : 'wave', hosts: hostsOfWave, status: 'planned' });
    }
    return waves;
  };
  const actual = (open: number | null, openFill: readonly string[]): Wave[] =>
    [...members.keys()]
      .concat(open !== null && !members.has(open) && openFill.length > 0 ? [open] : [])
      .sort((a, b) => a - b)
      .map((wave): Wave => {
        const gate = history.gates.get(wave);
        return {
          index: wave,
          kind: wave === 0 ? 'canary' : 'wave',
          hosts: [...(members.get(wave) ?? []), ...(wave === open ? openFill : [])].sort(order),
          status: gate !== undefined ? 'done' : 'in-progress',
          ...(gate === undefined ? {} : { gate: { verdict: gate.verdict, detail: gate.detail } }),
        };
      });

  const base = { ...report, gate: null, queryPrometheus: null } as const;
  const decision = (
    state: RolloutState,
    reason: string,
    extra: Partial<Pick<Decision, 'start' | 'withdraw' | 'nextWakeAt' | 'waves' | 'gate' | 'queryPrometheus'>> = {},
  ): Decision => ({
    ...base,
    start: [],
    withdraw: [],
    nextWakeAt: null,
    waves: actual(null, []),
    state,
    reason,
    ...extra,
  });
  const windowClosed = (): Decision | null => {
    if (isWithinWindows(rollout.maintenanceWindows, now)) return null;
    return decision('waiting-window', 'outside the maintenance windows: nothing new starts', {
      nextWakeAt: nextWindowOpening(rollout.maintenanceWindows, now),
    });
  };

  // Abort: take back what has not started, let running swaps finish, then end.
  if (history.aborted !== null) {
    if (inFlight.length === 0) return decision('aborted', history.aborted);
    return decision('paused', `${history.aborted}: waiting for ${inFlight.length} swap(s) in flight`, {
      withdraw: inFlight,
    });
  }

  if (history.rollingBack !== null) return rollBack(history, history.rollingBack);

  if (history.pauseReason !== null) {
    const running = inFlight.length === 0 ? '' : `; ${inFlight.length} swap(s) in flight finish`;
    return decision('paused', `${history.pauseReason}${running}`, { withdraw: inFlight, waves: planFrom(null, []) });
  }

  return forward();

  function planFrom(open: number | null, openFill: readonly string[]): Wave[] {
    const done = actual(open, openFill);
    const next = Math.max(rollout.strategy.canary > 0 ? 0 : 1, ...done.map((wave) => wave.index + 1));
    return [...done, ...planned(next, openFill)];
  }

  /** Rollback-all or an operator's rollback: every host done so far goes back, under the same caps. */
  function rollBack(state: History, why: string): Decision {
    const forwardInFlight = inFlight.filter((id) => record(id)?.inFlight === 'forward');
    const targets = [...state.hosts]
      .filter(([, host]) => host.startedForward && TOUCHED_OUTCOMES.has(host.forwardOutcome ?? 'skipped'))
      .filter(([, host]) => !host.startedRollback)
      .map(([id, host]) => ({ hostId: id, wave: host.wave ?? 0, direction: 'rollback' as const }))
      // The latest waves first: the canary, the longest on the new version, goes back last.
      .sort((a, b) => b.wave - a.wave || order(a.hostId, b.hostId));
    if (targets.length === 0 && inFlight.length === 0) {
      if (state.failedRollbacks.length > 0) {
        return decision('failed', `${why}; rollback failed on ${list(state.failedRollbacks)}`);
      }
      return decision('rolled-back', `${why}; every host done so far is back on its previous version`);
    }
    if (state.pauseReason !== null)
      return decision('paused', `${state.pauseReason} (while rolling back)`, { withdraw: inFlight });
    const closed = windowClosed();
    if (closed !== null) return { ...closed, withdraw: forwardInFlight };
    const start = admit(targets);
    const waiting = targets.length - start.length;
    return decision('rolling-back', `${why}; ${waiting} host(s) left to roll back (${capsNote(start.length)})`, {
      start,
      withdraw: forwardInFlight,
    });
  }

  function forward(): Decision {
    const rollbacks = [...history.hosts]
      .filter(([, host]) => rollout.failurePolicy === 'rollback-host' && !host.startedRollback)
      .filter(([, host]) => host.forwardOutcome === 'failed' || host.forwardOutcome === 'failed-restored')
      .map(([id, host]): HostStart => ({ hostId: id, wave: host.wave ?? 0, direction: 'rollback' }))
      .sort((a, b) => order(a.hostId, b.hostId));
    const awaitingRollback = new Set(rollbacks.map((start) => start.hostId));

    let open = Math.max(rollout.strategy.canary > 0 ? 0 : 1, ...members.keys());
    const closedGate = history.gates.get(open);
    if (closedGate !== undefined) {
      // The open wave's SLO gate is recorded: the Prometheus gate and the pause come next.
      const prometheus = history.prometheus.get(open);
      if (rollout.prometheusGate && !(prometheus?.status === 'ok' || prometheus?.overridden)) {
        const retryAt = prometheus === undefined ? now : prometheus.at + PROMETHEUS_RETRY_MS;
        const reason =
          prometheus === undefined
            ? `wave ${open} done (${closedGate.detail}); waiting for its Prometheus gate`
            : `wave ${open}: Prometheus gate ${prometheus.status}: ${prometheus.detail}; holding (resume to override)`;
        return decision('waiting-gate', reason, {
          queryPrometheus: now >= retryAt ? { wave: open } : null,
          nextWakeAt: now >= retryAt ? null : retryAt,
          waves: planFrom(null, []),
        });
      }
      if (pending.length === 0 && inFlight.length === 0 && rollbacks.length === 0) return finished();
      const gateAt = Math.max(closedGate.at, prometheus?.at ?? 0);
      const resumeAt = gateAt + rollout.strategy.pauseBetweenWavesSeconds * 1000;
      if (now < resumeAt) {
        return decision('waiting-pause-between-waves', `wave ${open} passed its gates; next wave after the pause`, {
          nextWakeAt: resumeAt,
          waves: planFrom(null, []),
        });
      }
      open += 1;
    }

    const openMembers = members.get(open) ?? [];
    const openFill = fill(open, pending.filter(available), openMembers);
    const waves = planFrom(open, openFill);
    if (openMembers.length === 0 && openFill.length === 0) {
      if (pending.length === 0 && inFlight.length === 0 && rollbacks.length === 0) return finished();
      if (pending.length > 0 && inFlight.length === 0 && rollbacks.length === 0) {
        return decision('running', `waiting for ${pending.length} unavailable host(s): ${list(pending)}`, { waves });
      }
    }
    const waveDone =
      openMembers.length > 0 &&
      openFill.length === 0 &&
      openMembers.every(
        (id) => record(id)?.forwardOutcome !== null && !record(id)?.inFlight && !awaitingRollback.has(id),
      );
    if (waveDone) {
      const samples = openMembers.flatMap((id) => record(id)?.recoveries ?? []);
      const gate = { wave: open, ...evaluateSloGate(samples, rollout.slo) };
      return decision('waiting-gate', `wave ${open} done: recording its SLO gate (${gate.verdict})`, { gate, waves });
    }
    const closed = windowClosed();
    if (closed !== null) return { ...closed, waves };
    const start = admit([
      ...rollbacks,
      ...openFill.map((id): HostStart => ({ hostId: id, wave: open, direction: 'forward' })),
    ]);
    const kind = open === 0 ? 'canary' : `wave ${open}`;
    const left = openFill.length - start.filter((s) => s.direction === 'forward').length;
    const why = left > 0 ? `; ${left} more wait for room (${capsNote(start.length)})` : '';
    return decision('running', `${kind}: ${start.length} starting${why}`, { start, waves });
  }

  function finished(): Decision {
    const upgraded = outcomeHosts((id) => record(id)?.forwardOutcome === 'succeeded').length;
    const summary = `${upgraded} host(s) upgraded, ${report.skipped.length} skipped`;
    const waves = planFrom(null, []);
    if (failed.length === 0) return decision('succeeded', summary, { waves });
    const rolledBack = failed.filter((id) => record(id)?.rollbackOutcome === 'succeeded');
    return decision(
      'failed',
      `${summary}, ${failed.length} failed: ${list(failed)} (${rolledBack.length} rolled back)`,
      {
        waves,
      },
    );
  }
}
