import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../src/index.js';
import { fleet, host, MINUTE, recovered, RolloutHarness, spec, T0 } from './rollout.harness.js';

const ids = (starts: readonly { hostId: string }[]): string[] => starts.map((start) => start.hostId);

describe('decide: the plan', () => {
  it('canary wave 0, then waves; hosts ordered by domain then id, whatever the input order', () => {
    const hosts = fleet(8, 2).reverse();
    const rollout = spec({ strategy: { canary: 1, maxUnavailable: 3, domainCap: { label: 'rack', max: 2 } } });
    const decision = decide({ rollout, hosts, events: [], now: T0 });
    assert.deepEqual(
      decision.waves.map((wave) => [wave.index, wave.kind, wave.status, wave.hosts]),
      [
        [0, 'canary', 'in-progress', ['h01']],
        [1, 'wave', 'planned', ['h03', 'h05', 'h02']],
        [2, 'wave', 'planned', ['h07', 'h04', 'h06']],
        [3, 'wave', 'planned', ['h08']],
      ],
    );
    assert.deepEqual(decide({ rollout, hosts: [...hosts].reverse(), events: [], now: T0 }).waves, decision.waves);
    assert.deepEqual(ids(decision.start), ['h01']);
  });

  it('without canary the first wave is wave 1; without a domain cap order is by id', () => {
    const decision = decide({
      rollout: spec({ strategy: { canary: 0, maxUnavailable: 2 } }),
      hosts: fleet(3, 3),
      events: [],
      now: T0,
    });
    assert.deepEqual(
      decision.waves.map((wave) => [wave.index, wave.hosts]),
      [
        [1, ['h01', 'h02']],
        [2, ['h03']],
      ],
    );
    assert.deepEqual(decision.start, [
      { hostId: 'h01', wave: 1, direction: 'forward' },
      { hostId: 'h02', wave: 1, direction: 'forward' },
    ]);
  });

  it('a canary larger than maxUnavailable is one wave started under the cap', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 3, maxUnavailable: 2 } }), fleet(5));
    assert.deepEqual(ids(run.step().start), ['h01', 'h02']);
    run.result('h01');
    assert.deepEqual(run.step().start, [{ hostId: 'h03', wave: 0, direction: 'forward' }]);
  });
});

describe('decide: canary, gates and waves', () => {
  it('nothing of wave 1 starts before the canary has its result and its gate is recorded', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 1, maxUnavailable: 2 } }), fleet(5));
    assert.deepEqual(ids(run.step().start), ['h01']);
    const waiting = run.step();
    assert.deepEqual([waiting.start, waiting.state], [[], 'running']);
    run.result('h01', 'succeeded', recovered(1.5, 2));
    const gate = run.step();
    assert.equal(gate.state, 'waiting-gate');
    assert.deepEqual(gate.start, []);
    assert.equal(gate.gate?.wave, 0);
    assert.equal(gate.gate?.verdict, 'pass');
    const wave1 = run.step();
    assert.deepEqual(
      wave1.start.map((start) => [start.hostId, start.wave]),
      [
        ['h02', 1],
        ['h03', 1],
      ],
    );
    assert.deepEqual(wave1.waves[0]?.gate?.verdict, 'pass');
  });

  it('a wave without recovery observations passes, marked no data', () => {
    const run = new RolloutHarness(spec(), fleet(2));
    run.step();
    run.result('h01');
    const decision = run.step();
    assert.equal(decision.gate?.verdict, 'no-data');
    assert.match(decision.gate?.detail ?? '', /no recovery observations/);
    assert.deepEqual(ids(run.step().start), ['h02']);
  });

  it('a breached SLO pauses (policy pause); resume goes on', () => {
    const run = new RolloutHarness(spec({ slo: { recoverySeconds: 5 } }), fleet(2));
    run.step();
    run.result('h01', 'succeeded', recovered(1, 2, 9));
    assert.equal(run.step().gate?.verdict, 'fail');
    const paused = run.step();
    assert.equal(paused.state, 'paused');
    assert.match(paused.reason, /wave 0 gate failed: SLO breached: p95 recovery 9 s > 5 s/);
    assert.deepEqual(paused.start, []);
    run.push({ type: 'resumed' });
    assert.deepEqual(ids(run.step().start), ['h02']);
  });

  it('not-recovered applications count against maxNotRecovered, not the percentile', () => {
    const run = new RolloutHarness(spec({ slo: { maxNotRecovered: 1 } }), fleet(2));
    run.step();
    run.result('h01', 'succeeded', [...recovered(1), { status: 'not-recovered', seconds: null }]);
    const gate = run.step().gate;
    assert.equal(gate?.verdict, 'pass');
    assert.equal(gate?.notRecovered, 1);
  });

  it('a Prometheus gate must evaluate ok; error, empty or false hold the rollout', () => {
    const run = new RolloutHarness(spec({ prometheusGate: true }), fleet(3));
    run.step();
    run.result('h01');
    run.step(); // records the SLO gate
    const ask = run.step();
    assert.equal(ask.state, 'waiting-gate');
    assert.deepEqual(ask.queryPrometheus, { wave: 0 });
    for (const status of ['error', 'empty', 'false'] as const) {
      run.push({ type: 'prometheus-gate', wave: 0, status, detail: `it was ${status}` });
      const held = run.step();
      assert.equal(held.state, 'waiting-gate');
      assert.deepEqual(held.start, []);
      assert.match(held.reason, new RegExp(`Prometheus gate ${status}: it was ${status}`));
      assert.equal(held.queryPrometheus, null);
      assert.equal(held.nextWakeAt, run.now + 30_000);
    }
    run.now += 30_000;
    assert.deepEqual(run.step().queryPrometheus, { wave: 0 });
    run.push({ type: 'prometheus-gate', wave: 0, status: 'ok' });
    assert.deepEqual(ids(run.step().start), ['h02']);
  });

  it('an operator resume overrides a held Prometheus gate', () => {
    const run = new RolloutHarness(spec({ prometheusGate: true }), fleet(2));
    run.step();
    run.result('h01');
    run.step();
    run.push({ type: 'prometheus-gate', wave: 0, status: 'error', detail: 'connection refused' });
    assert.equal(run.step().state, 'waiting-gate');
    run.push({ type: 'resumed', by: 'alice' });
    assert.deepEqual(ids(run.step().start), ['h02']);
  });

  it('the pause between waves runs from the gates, with a wake-up time', () => {
    const run = new RolloutHarness(spec({ strategy: { pauseBetweenWavesSeconds: 600 } }), fleet(3));
    run.step();
    run.now += MINUTE;
    run.result('h01');
    run.step();
    const gatedAt = run.now;
    run.now += 5 * MINUTE;
    const waiting = run.step();
    assert.equal(waiting.state, 'waiting-pause-between-waves');
    assert.equal(waiting.nextWakeAt, gatedAt + 600_000);
    run.now = gatedAt + 600_000;
    assert.deepEqual(ids(run.step().start), ['h02']);
  });

  it('the last wave is gated too, then the rollout succeeds', () => {
    const run = new RolloutHarness(spec({ strategy: { maxUnavailable: 2 } }), fleet(3));
    run.step();
    run.finishAll();
    run.step();
    run.step();
    run.finishAll();
    assert.equal(run.step().gate?.wave, 1);
    const done = run.step();
    assert.equal(done.state, 'succeeded');
    assert.equal(done.reason, '3 host(s) upgraded, 0 skipped');
    assert.deepEqual(
      done.waves.map((wave) => wave.status),
      ['done', 'done'],
    );
  });
});

describe('decide: caps', () => {
  it('maxUnavailable as a percentage is rounded up, at least 1', () => {
    const starts = (maxUnavailable: string, count: number): number =>
      decide({ rollout: spec({ strategy: { canary: 0, maxUnavailable } }), hosts: fleet(count), events: [], now: T0 })
        .start.length;
    assert.equal(starts('10%', 15), 2);
    assert.equal(starts('1%', 5), 1);
    assert.equal(starts('50%', 5), 3);
    assert.equal(starts('100%', 4), 4);
  });

  it('unavailable hosts of the selector count against maxUnavailable and are not started', () => {
    const hosts = fleet(6);
    hosts[4] = { ...hosts[4]!, available: false };
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 3 } }), hosts);
    const first = run.step();
    assert.deepEqual(ids(first.start), ['h01', 'h02']);
    assert.match(first.reason, /1 more wait for room \(2 in flight, 1 unavailable, maxUnavailable 3\)/);
    run.hosts = run.hosts.map((h) => (h.id === 'h05' ? { ...h, available: true } : h));
    assert.deepEqual(ids(run.step().start), ['h03']);
  });

  it('a wave is formed of available hosts; an unavailable one joins a later wave when back', () => {
    const hosts = fleet(3);
    hosts[1] = { ...hosts[1]!, available: false };
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 2 } }), hosts);
    const first = run.step();
    assert.deepEqual(ids(first.start), ['h01']);
    assert.deepEqual(
      first.waves.map((wave) => [wave.status, wave.hosts]),
      [
        ['in-progress', ['h01', 'h03']],
        ['planned', ['h02']],
      ],
    );
    run.finishAll();
    assert.deepEqual(run.step().start, [{ hostId: 'h03', wave: 1, direction: 'forward' }]);
    run.finishAll();
    assert.equal(run.step().gate?.wave, 1);
    assert.deepEqual(run.step().start, []);
    run.hosts = fleet(3);
    assert.deepEqual(run.step().start, [{ hostId: 'h02', wave: 2, direction: 'forward' }]);
  });

  it('no room at all while unavailable hosts fill maxUnavailable', () => {
    const hosts = fleet(2);
    hosts[1] = { ...hosts[1]!, available: false };
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 1 } }), hosts);
    assert.deepEqual(run.step().start, []);
    assert.match(run.decide().reason, /1 more wait for room \(0 in flight, 1 unavailable, maxUnavailable 1\)/);
  });

  it('waits for unavailable hosts once every other host is done', () => {
    const hosts = fleet(2);
    hosts[1] = { ...hosts[1]!, available: false };
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 2 } }), hosts);
    run.step();
    run.finishAll();
    run.step();
    const waiting = run.step();
    assert.equal(waiting.state, 'running');
    assert.match(waiting.reason, /waiting for 1 unavailable host\(s\): h02/);
  });

  it('the domain cap limits hosts in flight per label value, across waves and rollbacks', () => {
    const hosts = fleet(8, 2);
    const run = new RolloutHarness(
      spec({ strategy: { canary: 0, maxUnavailable: 4, domainCap: { label: 'rack', max: 1 } } }),
      hosts,
    );
    const first = run.step();
    assert.deepEqual(ids(first.start), ['h01', 'h02']);
    assert.deepEqual(first.waves[0]?.hosts, ['h01', 'h02']);
    run.result('h01');
    assert.deepEqual(ids(run.step().start), []);
  });

  it('hosts without the domain label share one domain', () => {
    const hosts = [host('a'), host('b'), host('c', { rack: 'r1' })];
    const decision = decide({
      rollout: spec({ strategy: { canary: 0, maxUnavailable: 3, domainCap: { label: 'rack', max: 1 } } }),
      hosts,
      events: [],
      now: T0,
    });
    assert.deepEqual(ids(decision.start), ['a', 'c']);
  });

  it('never starts a host in flight, nor twice in the same direction; stale results are ignored', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 2 } }), fleet(2));
    run.step();
    assert.deepEqual(run.step().start, []);
    run.result('h01');
    run.push({ type: 'result', hostId: 'h01', direction: 'forward', outcome: 'failed', recoveries: [] });
    const decision = run.step();
    assert.deepEqual(decision.start, []);
    assert.deepEqual(decision.failed, []);
  });
});

describe('decide: skipped hosts', () => {
  it('hosts on the target (srcversion, else version) are skipped and reported', () => {
    const hosts = [
      host('a', {}, { currentSrcversion: 'ABC', targetSrcversion: 'ABC' }),
      host('b', {}, { currentSrcversion: 'ABC', targetSrcversion: 'DEF', currentVersion: '2', targetVersion: '2' }),
      host('c', {}, { currentVersion: '2.0', targetVersion: '2.0' }),
      host('d', {}, { currentVersion: '1.0', targetVersion: '2.0' }),
    ];
    const decision = decide({
      rollout: spec({ strategy: { canary: 0, maxUnavailable: 4 } }),
      hosts,
      events: [],
      now: T0,
    });
    assert.deepEqual(decision.skipped, ['a', 'c']);
    assert.deepEqual(ids(decision.start), ['b', 'd']);
  });

  it('all on target: succeeded at once; an agent reporting skipped is reported too', () => {
    const onTarget = [host('a', {}, { currentVersion: '2', targetVersion: '2' })];
    const done = decide({ rollout: spec(), hosts: onTarget, events: [], now: T0 });
    assert.equal(done.state, 'succeeded');
    assert.deepEqual(done.skipped, ['a']);
    const run = new RolloutHarness(spec(), [host('b')]);
    run.step();
    run.result('b', 'skipped');
    run.step();
    const final = run.step();
    assert.deepEqual([final.state, final.skipped], ['succeeded', ['b']]);
  });
});

describe('decide: maintenance windows', () => {
  const rollout = spec({
    strategy: { canary: 0, maxUnavailable: 1 },
    maintenanceWindows: [{ days: ['mon'], start: '22:00', end: '02:00', timeZone: 'UTC' }],
  });

  it('outside the windows nothing starts, with the next opening as wake-up time', () => {
    const decision = decide({ rollout, hosts: fleet(2), events: [], now: T0 + 12 * 60 * MINUTE });
    assert.equal(decision.state, 'waiting-window');
    assert.deepEqual(decision.start, []);
    assert.equal(decision.nextWakeAt, Date.parse('2024-03-25T22:00:00Z'));
  });

  it('inside, including past midnight, hosts start; gates are still recorded outside', () => {
    const run = new RolloutHarness(rollout, fleet(2));
    run.now = Date.parse('2024-03-26T01:30:00Z');
    assert.deepEqual(ids(run.step().start), ['h01']);
    run.now = Date.parse('2024-03-26T03:00:00Z');
    run.result('h01');
    assert.equal(run.step().gate?.wave, 1);
    const closed = run.step();
    assert.equal(closed.state, 'waiting-window');
    assert.equal(closed.nextWakeAt, Date.parse('2024-04-01T22:00:00Z'));
  });
});

describe('decide: failure policies', () => {
  it('pause: a failed host pauses the rollout and its not-started jobs are withdrawn', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 2 } }), fleet(4));
    run.step();
    run.result('h01', 'failed-restored');
    const paused = run.step();
    assert.equal(paused.state, 'paused');
    assert.match(paused.reason, /host h01 failed \(failed-restored\)/);
    assert.deepEqual(paused.withdraw, ['h02']);
    assert.deepEqual(paused.failed, ['h01']);
    run.push({ type: 'withdrawn', hostId: 'h02' });
    assert.deepEqual(run.step().withdraw, []);
    run.push({ type: 'resumed' });
    assert.deepEqual(run.step().start, [{ hostId: 'h02', wave: 1, direction: 'forward' }]);
  });

  it('rollback-host: the failed host is swapped back, the others continue', () => {
    const run = new RolloutHarness(
      spec({ failurePolicy: 'rollback-host', strategy: { canary: 0, maxUnavailable: 2 } }),
      fleet(4),
    );
    run.step();
    run.result('h01', 'failed');
    const next = run.step();
    assert.equal(next.state, 'running');
    assert.deepEqual(next.start, [{ hostId: 'h01', wave: 1, direction: 'rollback' }]);
    run.result('h01', 'succeeded');
    run.result('h02', 'succeeded');
    assert.equal(run.step().gate?.wave, 1);
    assert.deepEqual(ids(run.step().start), ['h03', 'h04']);
    run.finishAll();
    run.step();
    const final = run.step();
    assert.equal(final.state, 'failed');
    assert.match(final.reason, /3 host\(s\) upgraded, 0 skipped, 1 failed: h01 \(1 rolled back\)/);
  });

  it('rollback-host: refused or expired hosts were never touched and are not swapped back', () => {
    const run = new RolloutHarness(spec({ failurePolicy: 'rollback-host', strategy: { canary: 0 } }), fleet(2));
    run.step();
    run.result('h01', 'refused');
    assert.deepEqual(run.step().start, []);
  });

  it('rollback-all: every host done so far goes back, forward jobs withdrawn, under the caps', () => {
    const run = new RolloutHarness(
      spec({ failurePolicy: 'rollback-all', strategy: { canary: 1, maxUnavailable: 2 } }),
      fleet(6),
    );
    run.step();
    run.finishAll();
    run.step();
    run.step();
    run.result('h02', 'succeeded');
    run.result('h03', 'failed');
    const back = run.step();
    assert.equal(back.state, 'rolling-back');
    assert.match(back.reason, /host h03 failed \(failed\): rolling back every host done so far/);
    assert.deepEqual(
      back.start.map((start) => [start.hostId, start.wave, start.direction]),
      [
        ['h02', 1, 'rollback'],
        ['h03', 1, 'rollback'],
      ],
    );
    run.finishAll();
    assert.deepEqual(run.step().start, [{ hostId: 'h01', wave: 0, direction: 'rollback' }]);
    run.finishAll();
    const done = run.step();
    assert.equal(done.state, 'rolled-back');
    assert.deepEqual(done.start, []);
  });

  it('rollback-all: a gate breach rolls back too; a failed rollback ends failed', () => {
    const run = new RolloutHarness(
      spec({ failurePolicy: 'rollback-all', slo: { recoverySeconds: 1 }, strategy: { canary: 1 } }),
      fleet(3),
    );
    run.step();
    run.result('h01', 'succeeded', recovered(5));
    run.step();
    const back = run.step();
    assert.equal(back.state, 'rolling-back');
    assert.deepEqual(ids(back.start), ['h01']);
    run.result('h01', 'failed');
    const final = run.step();
    assert.equal(final.state, 'failed');
    assert.match(final.reason, /rollback failed on h01/);
  });

  it('rolling back waits for an unavailable host, which counts against maxUnavailable meanwhile', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 2 } }), fleet(3));
    run.step();
    run.finishAll();
    run.push({ type: 'rollback-requested' });
    run.hosts = run.hosts.map((h) => (h.id === 'h02' ? { ...h, available: false } : h));
    const back = run.step();
    assert.deepEqual(back.start, [{ hostId: 'h01', wave: 1, direction: 'rollback' }]);
    assert.match(back.reason, /1 host\(s\) left to roll back \(1 in flight, 1 unavailable, maxUnavailable 2\)/);
    run.finishAll();
    assert.deepEqual(run.step().start, []);
    run.hosts = fleet(3);
    assert.deepEqual(run.step().start, [{ hostId: 'h02', wave: 1, direction: 'rollback' }]);
    run.finishAll();
    assert.equal(run.step().state, 'rolled-back');
  });

  it('a forward job in flight when the rollback begins is withdrawn, or rolled back once done', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 2 } }), fleet(3));
    run.step();
    run.push({ type: 'rollback-requested', by: 'bob' });
    const back = run.step();
    assert.deepEqual(back.withdraw, ['h01', 'h02']);
    assert.equal(back.state, 'rolling-back');
    run.push({ type: 'withdrawn', hostId: 'h02' });
    run.result('h01', 'succeeded');
    assert.deepEqual(run.step().start, [{ hostId: 'h01', wave: 1, direction: 'rollback' }]);
    run.finishAll();
    assert.equal(run.step().state, 'rolled-back');
  });
});

describe('decide: operator commands and expiry', () => {
  it('pause withdraws not-started jobs, starts nothing; a withdrawn host is started again on resume', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 2 } }), fleet(3));
    run.step();
    run.push({ type: 'paused', by: 'carol' });
    const paused = run.step();
    assert.deepEqual([paused.state, paused.withdraw, paused.start], ['paused', ['h01', 'h02'], []]);
    assert.match(paused.reason, /paused by an operator \(carol\); 2 swap\(s\) in flight finish/);
    run.push({ type: 'withdrawn', hostId: 'h02' });
    run.result('h01');
    assert.deepEqual(run.step().start, []);
    run.push({ type: 'resumed' });
    assert.deepEqual(run.step().start, [{ hostId: 'h02', wave: 1, direction: 'forward' }]);
  });

  it('abort: withdraws, lets running swaps finish, then ends aborted', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 2 } }), fleet(3));
    run.step();
    run.push({ type: 'aborted' });
    const aborting = run.step();
    assert.equal(aborting.state, 'paused');
    assert.match(aborting.reason, /aborted by an operator: waiting for 2 swap\(s\) in flight/);
    assert.deepEqual(aborting.withdraw, ['h01', 'h02']);
    run.push({ type: 'withdrawn', hostId: 'h01' });
    run.result('h02');
    run.push({ type: 'resumed' });
    const aborted = run.step();
    assert.deepEqual([aborted.state, aborted.start], ['aborted', []]);
  });

  it('an expired job is reported and counts as a failure', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 0, maxUnavailable: 2 } }), fleet(3));
    run.step();
    run.push({ type: 'expired', hostId: 'h01' });
    run.result('h02', 'expired');
    const decision = run.step();
    assert.deepEqual(decision.expired, ['h01', 'h02']);
    assert.deepEqual(decision.failed, ['h01', 'h02']);
    assert.equal(decision.state, 'paused');
  });
});

describe('decide is a function', () => {
  it('the same input gives the same decision, and the input is not changed', () => {
    const run = new RolloutHarness(spec({ strategy: { canary: 1, maxUnavailable: 2 } }), fleet(5, 2));
    run.step();
    run.result('h01', 'succeeded', recovered(1));
    const input = { rollout: run.rollout, hosts: run.hosts, events: run.events, now: run.now };
    const before = JSON.stringify(input);
    assert.deepEqual(decide(input), decide(structuredClone(input)));
    assert.equal(JSON.stringify(input), before);
  });
});
