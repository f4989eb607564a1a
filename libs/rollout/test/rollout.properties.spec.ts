import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { SwapOutcome } from '@hotswap/contracts';
import type { MaintenanceWindow } from '@hotswap/runbook';
import type { HostInfo, PrometheusGateStatus, RecoverySample, RolloutSpec } from '../src/index.js';
import { RolloutSimulation, type Action, type Scenario } from './rollout.simulation.js';

const hostsArb: fc.Arbitrary<HostInfo[]> = fc
  .array(
    fc.record({
      rack: fc.option(fc.constantFrom('r0', 'r1', 'r2', 'r3'), { freq: 10, nil: undefined }),
      zone: fc.constantFrom('z0', 'z1', 'z2'),
      available: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      onTarget: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }),
    { minLength: 1, maxLength: 16 },
  )
  .map((hosts) =>
    hosts.map((h, i): HostInfo => ({
      id: `h${String(i).padStart(2, '0')}`,
      labels: { ...(h.rack === undefined ? {} : { rack: h.rack }), zone: h.zone },
      available: h.available,
      currentVersion: h.onTarget ? '2.0' : '1.0',
      targetVersion: '2.0',
    })),
  );

const clockArb = fc.integer({ min: 0, max: 23 }).map((hour) => `${String(hour).padStart(2, '0')}:00`);
const windowArb: fc.Arbitrary<MaintenanceWindow> = fc
  .record({
    days: fc.uniqueArray(fc.constantFrom('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun' as const), {
      minLength: 1,
      maxLength: 7,
    }),
    start: clockArb,
    end: clockArb,
    timeZone: fc.constant('UTC'),
  })
  .filter((w) => w.start !== w.end);

const rolloutArb: fc.Arbitrary<RolloutSpec> = fc.record({
  strategy: fc.record(
    {
      canary: fc.integer({ min: 0, max: 3 }),
      maxUnavailable: fc.oneof(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 100 }).map((percent) => `${percent}%`),
      ),
      domainCap: fc.record({ label: fc.constantFrom('rack', 'zone'), max: fc.integer({ min: 1, max: 2 }) }),
      pauseBetweenWavesSeconds: fc.constantFrom(0, 0, 300, 3600),
    },
    { requiredKeys: ['canary', 'maxUnavailable', 'pauseBetweenWavesSeconds'] },
  ),
  slo: fc.record({
    percentile: fc.integer({ min: 50, max: 100 }),
    recoverySeconds: fc.integer({ min: 1, max: 20 }),
    maxNotRecovered: fc.integer({ min: 0, max: 2 }),
  }),
  failurePolicy: fc.constantFrom('pause' as const, 'rollback-host' as const, 'rollback-all' as const),
  maintenanceWindows: fc.oneof(fc.constant([]), fc.array(windowArb, { minLength: 1, maxLength: 2 })),
  prometheusGate: fc.boolean(),
});

const recoveriesArb: fc.Arbitrary<RecoverySample[]> = fc.array(
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.integer({ min: 0, max: 30 }).map((seconds) => ({ status: 'recovered' as const, seconds })),
    },
    { weight: 1, arbitrary: fc.constant({ status: 'not-recovered' as const, seconds: null }) },
    { weight: 1, arbitrary: fc.constant({ status: 'exited' as const, seconds: null }) },
  ),
  { maxLength: 3 },
);
const outcomeArb: fc.Arbitrary<SwapOutcome> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('succeeded' as const) },
  { weight: 1, arbitrary: fc.constantFrom('failed', 'failed-restored', 'refused', 'skipped', 'expired' as const) },
);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('result' as const),
      pick: fc.nat(),
      outcome: outcomeArb,
      recoveries: recoveriesArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('take' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('operator' as const),
      command: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('paused' as const, 'resumed' as const) },
        { weight: 1, arbitrary: fc.constantFrom('aborted' as const, 'rollback-requested' as const) },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('time' as const), minutes: fc.integer({ min: 1, max: 6 * 60 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('availability' as const), pick: fc.nat() }) },
);
const prometheusArb: fc.Arbitrary<PrometheusGateStatus[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.constant('ok' as const) },
    { weight: 1, arbitrary: fc.constantFrom('error' as const, 'empty' as const, 'false' as const) },
  ),
  { minLength: 1, maxLength: 8 },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  rollout: rolloutArb,
  hosts: hostsArb,
  script: fc.array(actionArb, { maxLength: 120 }),
  prometheus: prometheusArb,
});

describe('rollout scheduler properties (simulated rollouts)', () => {
  it('keeps every invariant on every decision, and ends once results keep coming', () => {
    const ends = new Map<string, number>();
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const final = new RolloutSimulation(scenario).run();
        ends.set(final.state, (ends.get(final.state) ?? 0) + 1);
      }),
      { numRuns: 400 },
    );
    // The generators reach every ending, or the properties above are checked on too little.
    for (const state of ['succeeded', 'failed', 'aborted', 'rolled-back']) assert.ok((ends.get(state) ?? 0) > 0, state);
  });

  it('without failures or commands, every host not on the target is upgraded', () => {
    fc.assert(
      fc.property(rolloutArb, hostsArb, (rollout, hosts) => {
        const script: Action[] = Array.from({ length: 40 }, (_, i) =>
          i % 3 === 2
            ? { kind: 'time', minutes: 90 }
            : { kind: 'result', pick: i, outcome: 'succeeded', recoveries: [{ status: 'recovered', seconds: 0 }] },
        );
        const simulation = new RolloutSimulation({ rollout, hosts, script, prometheus: ['ok'] });
        const final = simulation.run();
        assert.equal(final.state, 'succeeded', final.reason);
        const upgraded = hosts.filter((host) => host.currentVersion !== host.targetVersion).map((host) => host.id);
        assert.deepEqual([...simulation.started.keys()].sort(), upgraded);
        const onTarget = hosts.filter((host) => host.currentVersion === host.targetVersion).map((host) => host.id);
        assert.deepEqual([...final.skipped].sort(), onTarget);
      }),
      { numRuns: 200 },
    );
  });
});
