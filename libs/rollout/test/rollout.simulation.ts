import assert from 'node:assert/strict';
import type { SwapOutcome } from '@hotswap/contracts';
import type { MaintenanceWindow } from '@hotswap/runbook';
import {
  decide,
  isTerminalRolloutState,
  resolveMaxUnavailable,
  type Decision,
  type Direction,
  type HostInfo,
  type PrometheusGateStatus,
  type RecoverySample,
  type RolloutEvent,
  type RolloutSpec,
} from '../src/index.js';
import type { DistributiveOmit } from './rollout.harness.js';

export type Command = 'paused' | 'resumed' | 'aborted' | 'rollback-requested';

/** One thing that happens between two decisions. */
export type Action =
  | { kind: 'result'; pick: number; outcome: SwapOutcome; recoveries: RecoverySample[] }
  | { kind: 'take'; pick: number }
  | { kind: 'expire'; pick: number }
  | { kind: 'operator'; command: Command }
  | { kind: 'time'; minutes: number }
  | { kind: 'availability'; pick: number };

export interface Scenario {
  readonly rollout: RolloutSpec;
  readonly hosts: HostInfo[];
  readonly script: Action[];
  readonly prometheus: PrometheusGateStatus[];
}

interface Job {
  readonly direction: Direction;
  readonly wave: number;
  taken: boolean;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const minutesOf = (time: string): number =>
  time === '24:00' ? 1440 : Number(time.slice(0, 2)) * 60 + Number(time.slice(3));

/** An independent reading of UTC windows, to check the scheduler against. */
function openUtc(windows: readonly MaintenanceWindow[], at: number): boolean {
  if (windows.length === 0) return true;
  const date = new Date(at);
  const minutes = date.getUTCHours() * 60 + date.getUTCMinutes();
  const today = DAY_NAMES[date.getUTCDay()]!;
  const yesterday = DAY_NAMES[(date.getUTCDay() + 6) % 7]!;
  return windows.some((w) => {
    const [start, end] = [minutesOf(w.start), minutesOf(w.end)];
    if (start < end) return w.days.includes(today) && minutes >= start && minutes < end;
    return (w.days.includes(today) && minutes >= start) || (w.days.includes(yesterday) && minutes < end);
  });
}

/**
 * Plays a rollout: the controller (decide, enqueue, withdraw, record gates), agents (take jobs,
 * report results, let jobs expire), operators and the clock, following a generated script; then
 * drains (results keep coming, operators resume, hosts come back, time moves to the next
 * wake-up) until the rollout ends. Every decision is checked against the invariants, from a
 * model kept here, independently of the scheduler's own bookkeeping.
 */
export class RolloutSimulation {
  readonly events: RolloutEvent[] = [];
  now = Date.parse('2024-03-25T00:00:00Z');
  readonly jobs = new Map<string, Job>();
  readonly started = new Map<string, Set<Direction>>();
  readonly outcomes = new Map<string, SwapOutcome[]>();
  readonly members = new Map<number, Set<string>>();
  readonly gates = new Set<number>();
  operatorPaused = false;
  aborted = false;
  rollbackRequested = false;
  last: Decision | null = null;
  decisions = 0;
  private prometheusIndex = 0;
  private draining = false;
  private readonly skippedAtStart: Set<string>;
  private readonly limit: number;
  private hosts: HostInfo[];

  constructor(private readonly scenario: Scenario) {
    this.hosts = scenario.hosts.map((host) => ({ ...host }));
    this.limit = resolveMaxUnavailable(scenario.rollout.strategy.maxUnavailable, this.hosts.length);
    this.skippedAtStart = new Set(
      this.hosts.filter((host) => host.currentVersion === host.targetVersion).map((host) => host.id),
    );
    this.push({ type: 'started' });
  }

  run(): Decision {
    for (const action of this.scenario.script) {
      if (this.ended()) break;
      this.apply(action);
      this.step();
    }
    this.draining = true;
    for (let i = 0; i < 500 && !this.ended(); i++) this.drain();
    assert.ok(this.ended(), `not terminal after draining: ${this.last?.state} ${this.last?.reason}`);
    return this.last as Decision;
  }

  private ended(): boolean {
    return this.last !== null && isTerminalRolloutState(this.last.state);
  }

  private push(event: DistributiveOmit<RolloutEvent, 'at'>): void {
    this.events.push({ ...event, at: this.now } as RolloutEvent);
  }

  private domainOf(id: string): string {
    const label = this.scenario.rollout.strategy.domainCap?.label;
    return label === undefined ? '' : (this.hosts.find((host) => host.id === id)?.labels[label] ?? '');
  }

  private flying(): string[] {
    return [...this.jobs.keys()].sort();
  }

  private apply(action: Action): void {
    const flying = this.flying();
    const pick = <T>(items: readonly T[], n: number): T | undefined => items[n % Math.max(items.length, 1)];
    switch (action.kind) {
      case 'result': {
        const id = pick(flying, action.pick);
        if (id === undefined) return;
        this.finish(id, action.outcome, this.jobs.get(id)!.direction, action.recoveries);
        return;
      }
      case 'take': {
        const id = pick(flying, action.pick);
        if (id !== undefined) this.jobs.get(id)!.taken = true;
        return;
      }
      case 'expire': {
        const id = pick(
          flying.filter((candidate) => !this.jobs.get(candidate)!.taken),
          action.pick,
        );
        if (id === undefined) return;
        this.jobs.delete(id);
        this.outcomes.set(id, [...(this.outcomes.get(id) ?? []), 'expired']);
        this.push({ type: 'expired', hostId: id });
        return;
      }
      case 'operator':
        this.command(action.command);
        return;
      case 'time':
        this.now += action.minutes * 60_000;
        return;
      case 'availability': {
        const target = pick(this.hosts, action.pick);
        if (target !== undefined)
          this.hosts = this.hosts.map((h) => (h === target ? { ...h, available: !h.available } : h));
        return;
      }
    }
  }

  private command(command: Command): void {
    if (command === 'paused') this.operatorPaused = true;
    if (command === 'resumed' || command === 'rollback-requested') this.operatorPaused = false;
    if (command === 'aborted') this.aborted = true;
    if (command === 'rollback-requested') this.rollbackRequested = true;
    this.push({ type: command });
  }

  private finish(id: string, outcome: SwapOutcome, direction: Direction, recoveries: RecoverySample[]): void {
    this.jobs.delete(id);
    this.outcomes.set(id, [...(this.outcomes.get(id) ?? []), outcome]);
    this.push({ type: 'result', hostId: id, direction, outcome, recoveries });
  }

  private drain(): void {
    const decision = this.step();
    if (this.ended()) return;
    for (const id of this.flying()) this.finish(id, 'succeeded', this.jobs.get(id)!.direction, []);
    if (decision.state === 'paused' && !this.aborted) this.command('resumed');
    this.hosts = this.hosts.map((host) => ({ ...host, available: true }));
    this.now = Math.max(this.now + 60_000, decision.nextWakeAt ?? 0);
  }

  /** One decision: checked, then applied as the controller would. */
  step(): Decision {
    const input = { rollout: this.scenario.rollout, hosts: this.hosts, events: this.events, now: this.now };
    const decision = decide(input);
    this.decisions++;
    if (this.decisions % 7 === 0)
      assert.deepEqual(decide(structuredClone(input)), decision, 'decide is not a function');
    this.check(decision);
    for (const start of decision.start) {
      this.jobs.set(start.hostId, { direction: start.direction, wave: start.wave, taken: false });
      const directions = this.started.get(start.hostId) ?? new Set();
      directions.add(start.direction);
      this.started.set(start.hostId, directions);
      if (start.direction === 'forward') {
        this.members.set(start.wave, (this.members.get(start.wave) ?? new Set()).add(start.hostId));
      }
      this.push({ type: 'enqueued', hostId: start.hostId, wave: start.wave, direction: start.direction });
    }
    this.checkCaps(decision);
    for (const id of decision.withdraw) {
      const job = this.jobs.get(id);
      assert.ok(job !== undefined, `withdraw lists ${id}, which is not in flight`);
      if (job.taken) continue;
      this.jobs.delete(id);
      this.started.get(id)?.delete(job.direction);
      if (job.direction === 'forward') this.members.get(job.wave)?.delete(id);
      this.push({ type: 'withdrawn', hostId: id });
    }
    if (decision.gate !== null) {
      const { wave, verdict, detail } = decision.gate;
      this.gates.add(wave);
      this.push({ type: 'gate-evaluated', wave, verdict, detail });
    }
    if (decision.queryPrometheus !== null) {
      // While draining the query passes: "eventually terminal" needs the gate to open some day.
      const scripted = this.scenario.prometheus[this.prometheusIndex++ % Math.max(this.scenario.prometheus.length, 1)];
      const status = this.draining ? 'ok' : (scripted ?? 'ok');
      this.push({ type: 'prometheus-gate', wave: decision.queryPrometheus.wave, status });
    }
    this.last = decision;
    return decision;
  }

  private check(decision: Decision): void {
    const seen = new Set<string>();
    const state = decision.state;
    if (decision.start.length > 0) {
      assert.ok(!this.operatorPaused, 'a paused rollout started a host');
      assert.ok(!this.aborted, 'an aborted rollout started a host');
      assert.ok(openUtc(this.scenario.rollout.maintenanceWindows, this.now), 'a host started outside the windows');
      assert.ok(state === 'running' || state === 'rolling-back', `state ${state} with starts`);
    }
    for (const start of decision.start) {
      const id = start.hostId;
      assert.ok(!seen.has(id), `${id} started twice in one decision`);
      seen.add(id);
      assert.ok(!this.jobs.has(id), `${id} started while in flight`);
      assert.ok(!this.started.get(id)?.has(start.direction), `${id} started twice ${start.direction}`);
      assert.ok(this.hosts.find((host) => host.id === id)?.available, `${id} started while unavailable`);
      if (start.direction === 'forward') {
        assert.ok(!this.rollbackRequested, `${id} started forward while rolling back`);
        assert.ok(!this.skippedAtStart.has(id), `${id} is on the target and was started`);
        for (const [wave, hosts] of this.members) {
          if (wave >= start.wave || hosts.size === 0) continue;
          assert.ok(this.gates.has(wave), `${id} started in wave ${start.wave} before wave ${wave}'s gate`);
          for (const member of hosts) assert.ok(!this.jobs.has(member), `wave ${wave} not done, ${id} started`);
        }
      } else {
        const forward = this.outcomes.get(id) ?? [];
        assert.ok(
          forward.some((outcome) => ['succeeded', 'failed', 'failed-restored'].includes(outcome)),
          `${id} rolled back without a forward swap`,
        );
      }
    }
    if (isTerminalRolloutState(state)) {
      assert.equal(this.jobs.size, 0, `terminal (${state}) with hosts in flight`);
      assert.deepEqual(decision.start, []);
      if (state === 'aborted') assert.ok(this.aborted);
      if (state === 'rolled-back') {
        for (const [id, directions] of this.started) {
          if (directions.has('forward') && (this.outcomes.get(id) ?? [])[0] === 'succeeded') {
            assert.ok(directions.has('rollback'), `${id} not rolled back`);
          }
        }
      }
      if (state === 'succeeded') assert.deepEqual(decision.failed, []);
      // Every host started ended with a result: done, failed, skipped, expired or rolled back.
      for (const [id, directions] of this.started) {
        if (directions.size > 0) assert.ok((this.outcomes.get(id) ?? []).length > 0, `${id} has no result`);
      }
    }
  }

  private checkCaps(decision: Decision): void {
    const unavailable = this.hosts.filter((host) => !host.available).map((host) => host.id);
    const occupied = new Set([...this.jobs.keys(), ...unavailable]);
    if (decision.start.length > 0) {
      assert.ok(
        occupied.size <= this.limit,
        `${occupied.size} in flight or unavailable > maxUnavailable ${this.limit}`,
      );
    }
    const cap = this.scenario.rollout.strategy.domainCap?.max;
    if (cap === undefined) return;
    const perDomain = new Map<string, number>();
    for (const id of this.jobs.keys()) perDomain.set(this.domainOf(id), (perDomain.get(this.domainOf(id)) ?? 0) + 1);
    for (const [domain, count] of perDomain) assert.ok(count <= cap, `${count} in flight in ${domain} > cap ${cap}`);
  }
}
