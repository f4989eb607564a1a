import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SwapOutcome } from '@hotswap/contracts';
import { isTerminalRolloutState } from '@hotswap/rollout';
import fc from 'fast-check';
import { RolloutDriver } from './rollout-driver.js';

/** 8 hosts in 4 racks: h1..h8, rack r(i % 4). */
const FLEET = Array.from({ length: 8 }, (_, i) => ({ id: `h${i + 1}`, rack: `r${i % 4}` }));
const WAVES = {
  strategy: { canary: 1, maxUnavailable: 3, domainCap: { label: 'rack', max: 1 } },
  slo: { percentile: 95, recoverySeconds: 2, maxNotRecovered: 0 },
};
const started = (driver: RolloutDriver): string[] =>
  driver.events.flatMap((e) => (e.type === 'enqueued' ? [`${e.hostId}:${e.direction}:${e.wave}`] : []));

describe('reconcile: the scheduler driven as the controller drives it', () => {
  it('starts the canary alone, then nothing more until its result; a second call changes nothing', () => {
    const driver = new RolloutDriver(FLEET, WAVES);
    const first = driver.reconcile();
    assert.ok(first.changed);
    assert.deepEqual(
      first.starts.map((s) => [s.hostId, s.wave, s.direction]),
      [['h1', 0, 'forward']],
    );
    assert.equal(first.record.state, 'running');
    assert.deepEqual(first.events, [{ type: 'enqueued', at: driver.now, hostId: 'h1', wave: 0, direction: 'forward' }]);
    const again = driver.reconcile();
    assert.equal(again.changed, false);
    assert.deepEqual(again.starts, []);
  });

  it('records the gate and starts the next wave in one step: no fleeting waiting-gate is stored', () => {
    const driver = new RolloutDriver(FLEET, WAVES);
    driver.reconcile();
    driver.now += 1000;
    assert.equal(driver.result('h1', 'succeeded', [['recovered', 0.5]]).disposition, 'applied');
    const next = driver.reconcile();
    assert.deepEqual(
      next.events.map((e) => e.type),
      ['gate-evaluated', 'enqueued', 'enqueued', 'enqueued'],
    );
    assert.equal(next.record.state, 'running');
    // One host per rack, three at most, never the canary's rack twice.
    const wave1 = next.starts.map((s) => s.hostId);
    assert.equal(wave1.length, 3);
    const racks = wave1.map((id) => FLEET.find((h) => h.id === id)?.rack);
    assert.equal(new Set(racks).size, 3);
    assert.deepEqual(next.record.decision.waves[0]?.gate?.verdict, 'pass');
  });

  it('a breached SLO pauses; resume goes on to the end; the view follows each host', () => {
    const driver = new RolloutDriver(FLEET, WAVES);
    driver.reconcile();
    driver.step('h1', 'preflight');
    assert.equal(driver.view().hosts[0]?.state, 'running');
    driver.result('h1', 'succeeded', [['recovered', 0.5]]);
    const wave1 = driver.reconcile().starts.map((s) => s.hostId);
    assert.equal(driver.view().hosts.find((h) => h.hostId === wave1[0])?.state, 'queued');
    for (const id of wave1) driver.result(id, 'succeeded', [['recovered', 5]]);
    const paused = driver.reconcile();
    assert.equal(paused.record.state, 'paused');
    assert.match(paused.record.decision.reason, /SLO breached/);
    assert.deepEqual(paused.starts, []);
    driver.command('resume');
    for (let i = 0; i < 10 && !isTerminalRolloutState(driver.record.state); i++) {
      for (const { hostId } of driver.inFlight()) driver.result(hostId, 'succeeded', [['recovered', 1]]);
      driver.reconcile();
    }
    assert.equal(driver.record.state, 'succeeded');
    assert.ok(driver.record.finishedAt !== null);
    const view = driver.view();
    assert.deepEqual(new Set(view.hosts.map((h) => h.state)), new Set(['succeeded']));
    assert.equal(view.summary.hostsDone, 8);
    assert.equal(view.summary.recoveries, 8);
    assert.deepEqual(
      view.hosts.map((h) => h.labels['rack']),
      FLEET.map((h) => h.rack),
    );
  });

  it('rollback-all: a failed host sends every touched host back, under the same caps', () => {
    const driver = new RolloutDriver(FLEET, { ...WAVES, failurePolicy: 'rollback-all' });
    driver.reconcile();
    driver.result('h1', 'succeeded');
    const wave1 = driver.reconcile().starts.map((s) => s.hostId);
    driver.result(wave1[0]!, 'failed-restored');
    driver.result(wave1[1]!, 'succeeded');
    const rolling = driver.reconcile();
    assert.equal(rolling.record.state, 'rolling-back');
    // The third wave-1 host was queued, never taken: withdrawn.
    assert.ok(driver.events.some((e) => e.type === 'withdrawn' && e.hostId === wave1[2]));
    for (let i = 0; i < 10 && !isTerminalRolloutState(driver.record.state); i++) {
      for (const { hostId, direction } of driver.inFlight()) driver.result(hostId, 'succeeded', [], direction);
      driver.reconcile();
    }
    assert.equal(driver.record.state, 'rolled-back');
    const view = driver.view();
    const stateOf = (id: string) => view.hosts.find((h) => h.hostId === id)?.state;
    assert.equal(stateOf('h1'), 'rolled-back');
    assert.equal(stateOf(wave1[0]!), 'rolled-back');
    assert.equal(stateOf(wave1[1]!), 'rolled-back');
    assert.equal(stateOf(wave1[2]!), 'pending');
    assert.equal(view.summary.hostsRolledBack, 3);
  });

  it('results: applied once, a redelivery is a duplicate, foreign ones are rejected or ignored', () => {
    const driver = new RolloutDriver(FLEET, WAVES);
    driver.reconcile();
    assert.equal(driver.result('h1', 'succeeded').disposition, 'applied');
    assert.equal(driver.result('h1', 'succeeded').disposition, 'duplicate');
    assert.equal(driver.result('h2', 'succeeded').disposition, 'ignored', 'h2 was never started');
    assert.equal(driver.result('nope', 'succeeded').disposition, 'rejected');
    assert.equal(driver.result('h1', 'exploded' as SwapOutcome).disposition, 'rejected');
    assert.equal(driver.events.filter((e) => e.type === 'result').length, 1);
  });

  it('operator commands apply only where they mean something (409 with the state otherwise)', () => {
    const driver = new RolloutDriver(FLEET, WAVES);
    driver.reconcile();
    assert.throws(() => driver.command('resume'), { code: 'ROLLOUT_COMMAND_NOT_APPLICABLE', message: /not paused/ });
    driver.command('pause');
    const paused = driver.reconcile();
    assert.equal(paused.record.state, 'paused');
    assert.deepEqual(paused.decision.withdraw, ['h1']);
    assert.throws(() => driver.command('pause'), { status: 409, message: /paused already/ });
    driver.command('resume');
    assert.equal(driver.reconcile().record.state, 'running');
    driver.command('rollback');
    assert.throws(() => driver.command('rollback'), { message: /rolling back already/ });
    driver.command('abort');
    assert.throws(() => driver.command('pause'), { message: /being aborted/ });
    driver.settle();
    assert.equal(driver.record.state, 'aborted');
    assert.throws(() => driver.command('abort'), { message: /it is aborted \(it has finished\)/ });
  });

  it('whatever the results and commands, caps hold in the log and no host is started twice in a direction', () => {
    const action = fc.oneof(
      fc.record({
        kind: fc.constant('result' as const),
        pick: fc.nat(),
        outcome: fc.constantFrom<SwapOutcome>('succeeded', 'succeeded', 'succeeded', 'skipped', 'failed-restored'),
        seconds: fc.double({ min: 0, max: 5, noNaN: true }),
      }),
      fc.record({ kind: fc.constant('take' as const), pick: fc.nat() }),
      fc.record({
        kind: fc.constant('command' as const),
        command: fc.constantFrom('pause', 'resume', 'abort', 'rollback' as const),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(action, { maxLength: 60 }),
        fc.constantFrom('pause', 'rollback-host', 'rollback-all'),
        (script, failurePolicy) => {
          const driver = new RolloutDriver(FLEET, { ...WAVES, failurePolicy });
          driver.reconcile();
          for (const step of script) {
            const flying = driver.inFlight();
            if (step.kind === 'result' && flying.length > 0) {
              const { hostId, direction } = flying[step.pick % flying.length]!;
              driver.result(hostId, step.outcome, [['recovered', step.seconds]], direction);
            } else if (step.kind === 'take' && flying.length > 0) {
              driver.step(flying[step.pick % flying.length]!.hostId, 'preflight');
            } else if (step.kind === 'command') {
              try {
                driver.command(step.command);
              } catch (error) {
                assert.equal((error as { code?: string }).code, 'ROLLOUT_COMMAND_NOT_APPLICABLE');
              }
            }
            driver.reconcile();
            checkLog(driver);
          }
          const view = driver.view();
          assert.equal(view.eventCount, driver.events.length);
        },
      ),
    );
  });
});

/** Replays the log: in flight ≤ maxUnavailable (3), ≤ 1 per rack; each (host, direction) started once unless withdrawn. */
function checkLog(driver: RolloutDriver): void {
  const rack = new Map(FLEET.map((h) => [h.id, h.rack]));
  const flying = new Map<string, string>();
  const startedOnce = new Set<string>();
  for (const event of driver.events) {
    if (event.type === 'enqueued') {
      const key = `${event.hostId}:${event.direction}`;
      assert.ok(!flying.has(event.hostId), `${event.hostId} started while in flight`);
      assert.ok(!startedOnce.has(key), `${key} started twice: ${started(driver).join(' ')}`);
      startedOnce.add(key);
      flying.set(event.hostId, event.direction);
      assert.ok(flying.size <= 3, `${flying.size} in flight`);
      const perRack = [...flying.keys()].filter((id) => rack.get(id) === rack.get(event.hostId)).length;
      assert.ok(perRack <= 1, `${perRack} in flight in ${rack.get(event.hostId)}`);
    }
    if (event.type === 'withdrawn') {
      startedOnce.delete(`${event.hostId}:${flying.get(event.hostId)}`);
      flying.delete(event.hostId);
    }
    if (event.type === 'result' && flying.get(event.hostId) === event.direction) flying.delete(event.hostId);
  }
}
