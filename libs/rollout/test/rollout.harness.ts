import type { SwapOutcome } from '@hotswap/contracts';
import {
  decide,
  foldHistory,
  type Decision,
  type HostInfo,
  type PrometheusGateStatus,
  type RecoverySample,
  type RolloutEvent,
  type RolloutSpec,
} from '../src/index.js';

/** Monday 2024-03-25 00:00 UTC. */
export const T0 = Date.parse('2024-03-25T00:00:00Z');
export const MINUTE = 60_000;

type SpecOverrides = Omit<Partial<RolloutSpec>, 'strategy' | 'slo'> & {
  strategy?: Partial<RolloutSpec['strategy']>;
  slo?: Partial<RolloutSpec['slo']>;
};

/** The runbook defaults, overridden. */
export function spec(overrides: SpecOverrides = {}): RolloutSpec {
  return {
    failurePolicy: 'pause',
    maintenanceWindows: [],
    prometheusGate: false,
    ...overrides,
    strategy: { canary: 1, maxUnavailable: 1, pauseBetweenWavesSeconds: 0, ...overrides.strategy },
    slo: { percentile: 95, recoverySeconds: 30, maxNotRecovered: 0, ...overrides.slo },
  };
}

export function host(id: string, labels: Record<string, string> = {}, extra: Partial<HostInfo> = {}): HostInfo {
  return { id, labels, available: true, ...extra };
}

/** `count` hosts h01.. spread round-robin over `racks` racks r0.. (so ids and racks interleave). */
export function fleet(count: number, racks = 1): HostInfo[] {
  return Array.from({ length: count }, (_, i) =>
    host(`h${String(i + 1).padStart(2, '0')}`, { rack: `r${i % racks}`, zone: `z${i % 2}` }),
  );
}

export const recovered = (...seconds: number[]): RecoverySample[] =>
  seconds.map((value) => ({ status: 'recovered', seconds: value }));

/**
 * Plays the controller: calls `decide`, records what it asks (enqueues, the SLO gate, the
 * Prometheus gate when a status is given), and lets tests deliver results and commands.
 */
export class RolloutHarness {
  readonly events: RolloutEvent[] = [{ type: 'started', at: T0 }];
  now = T0;

  constructor(
    public rollout: RolloutSpec,
    public hosts: HostInfo[],
  ) {}

  decide(): Decision {
    return decide({ rollout: this.rollout, hosts: this.hosts, events: this.events, now: this.now });
  }

  step(options: { prometheus?: PrometheusGateStatus } = {}): Decision {
    const decision = this.decide();
    for (const start of decision.start)
      this.push({ type: 'enqueued', hostId: start.hostId, wave: start.wave, direction: start.direction });
    if (decision.gate !== null) {
      const { wave, verdict, detail } = decision.gate;
      this.push({ type: 'gate-evaluated', wave, verdict, detail });
    }
    if (decision.queryPrometheus !== null && options.prometheus !== undefined) {
      this.push({ type: 'prometheus-gate', wave: decision.queryPrometheus.wave, status: options.prometheus });
    }
    return decision;
  }

  /** Steps until a decision starts nothing and asks for nothing; returns the last one. */
  settle(options: { prometheus?: PrometheusGateStatus } = {}): Decision {
    for (let i = 0; i < 100; i++) {
      const decision = this.step(options);
      const asks = decision.gate !== null || (decision.queryPrometheus !== null && options.prometheus !== undefined);
      if (decision.start.length === 0 && !asks) return decision;
    }
    throw new Error('did not settle');
  }

  push(event: DistributiveOmit<RolloutEvent, 'at'>): void {
    this.events.push({ ...event, at: this.now } as RolloutEvent);
  }

  inFlight(): Map<string, 'forward' | 'rollback'> {
    const flying = new Map<string, 'forward' | 'rollback'>();
    for (const [id, record] of foldHistory(this.events, this.rollout.failurePolicy).hosts) {
      if (record.inFlight !== null) flying.set(id, record.inFlight);
    }
    return flying;
  }

  result(hostId: string, outcome: SwapOutcome = 'succeeded', recoveries: RecoverySample[] = []): void {
    const direction = this.inFlight().get(hostId);
    if (direction === undefined) throw new Error(`${hostId} is not in flight`);
    this.push({ type: 'result', hostId, direction, outcome, recoveries });
  }

  /** Every host in flight succeeds (with the given recoveries each). */
  finishAll(recoveries: RecoverySample[] = []): string[] {
    const ids = [...this.inFlight().keys()];
    for (const id of ids) this.result(id, 'succeeded', recoveries);
    return ids;
  }
}

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
