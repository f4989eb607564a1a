import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { conditionHolds, evaluateSloGate, nearestRankPercentile, prometheusGateStatus } from '../src/index.js';
import { recovered } from './rollout.harness.js';

const SLO = { percentile: 95, recoverySeconds: 10, maxNotRecovered: 0 };

describe('nearestRankPercentile', () => {
  it('is the value at rank ⌈p/100·n⌉ in ascending order', () => {
    const values = [15, 20, 35, 40, 50];
    assert.equal(nearestRankPercentile(values, 5), 15);
    assert.equal(nearestRankPercentile(values, 30), 20);
    assert.equal(nearestRankPercentile(values, 40), 20);
    assert.equal(nearestRankPercentile(values, 50), 35);
    assert.equal(nearestRankPercentile([40, 15, 50, 35, 20], 100), 50);
    assert.equal(nearestRankPercentile([3, 1, 2], 1), 1);
    assert.equal(nearestRankPercentile([7], 95), 7);
    assert.equal(nearestRankPercentile([], 95), null);
    assert.throws(() => nearestRankPercentile([1], 0), RangeError);
    assert.throws(() => nearestRankPercentile([1], 101), RangeError);
  });

  it('is a value of the list, with at least p% of the values at or below it and fewer strictly below', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        (values, p) => {
          const result = nearestRankPercentile(values, p);
          assert.ok(result !== null && values.includes(result));
          const atOrBelow = values.filter((value) => value <= result).length;
          const below = values.filter((value) => value < result).length;
          assert.ok(atOrBelow >= (p / 100) * values.length - 1e-9);
          assert.ok(below < (p / 100) * values.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('evaluateSloGate', () => {
  it('passes within the SLO, with a detail a person can read', () => {
    const result = evaluateSloGate(recovered(1, 2, 3, 9.5), SLO);
    assert.equal(result.verdict, 'pass');
    assert.equal(result.percentileSeconds, 9.5);
    assert.equal(result.detail, 'p95 recovery 9.5 s (SLO 10 s), 0 not recovered (at most 0), over 4 observation(s)');
  });

  it('fails on the percentile, on not-recovered applications, or both', () => {
    assert.match(evaluateSloGate(recovered(1, 2, 30), SLO).detail, /SLO breached: p95 recovery 30 s > 10 s/);
    const exited = evaluateSloGate([...recovered(1), { status: 'exited', seconds: null }], SLO);
    assert.equal(exited.verdict, 'fail');
    assert.match(exited.detail, /1 application\(s\) did not recover \(at most 0 allowed\)/);
    const both = evaluateSloGate([...recovered(60), { status: 'not-recovered', seconds: null }], SLO);
    assert.match(both.detail, /p95 recovery 60 s > 10 s; 1 application/);
  });

  it('the percentile is over recovered and restarted applications only', () => {
    const result = evaluateSloGate(
      [
        { status: 'restarted', seconds: 4 },
        { status: 'not-recovered', seconds: null },
      ],
      { ...SLO, maxNotRecovered: 1 },
    );
    assert.deepEqual([result.verdict, result.percentileSeconds, result.notRecovered], ['pass', 4, 1]);
    const none = evaluateSloGate([{ status: 'exited', seconds: null }], { ...SLO, maxNotRecovered: 1 });
    assert.equal(none.verdict, 'pass');
    assert.match(none.detail, /no application recovered/);
  });

  it('no observations: passes, marked no data', () => {
    assert.deepEqual(evaluateSloGate([], SLO), {
      verdict: 'no-data',
      detail: 'no recovery observations: no application held the device',
      percentileSeconds: null,
      observations: 0,
      notRecovered: 0,
    });
  });

  it('fails exactly when the nearest-rank percentile exceeds the SLO or too many did not recover', () => {
    const sample = fc.oneof(
      fc.double({ min: 0, max: 100, noNaN: true }).map((seconds) => ({ status: 'recovered' as const, seconds })),
      fc.constant({ status: 'not-recovered' as const, seconds: null }),
    );
    fc.assert(
      fc.property(
        fc.array(sample, { maxLength: 30 }),
        fc.integer({ min: 1, max: 100 }),
        fc.nat(3),
        (samples, p, max) => {
          const slo = { percentile: p, recoverySeconds: 50, maxNotRecovered: max };
          const result = evaluateSloGate(samples, slo);
          const seconds = samples.flatMap((s) => (s.seconds === null ? [] : [s.seconds]));
          const stuck = samples.length - seconds.length;
          const pth = nearestRankPercentile(seconds, p);
          const expected =
            samples.length === 0 ? 'no-data' : stuck > max || (pth !== null && pth > 50) ? 'fail' : 'pass';
          assert.equal(result.verdict, expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Prometheus gate', () => {
  const gate = { query: 'sum(rate(errors[5m]))', condition: { op: '<' as const, value: 1 } };

  it('compares with each operator', () => {
    const table: [number, Parameters<typeof conditionHolds>[1], number, boolean][] = [
      [0, '<', 1, true],
      [1, '<', 1, false],
      [1, '<=', 1, true],
      [2, '>', 1, true],
      [1, '>=', 1, true],
      [1, '==', 1, true],
      [1, '!=', 1, false],
      [NaN, '!=', 1, true],
      [NaN, '<', 1, false],
    ];
    for (const [value, op, threshold, holds] of table) assert.equal(conditionHolds(value, op, threshold), holds);
  });

  it('ok only when the query succeeds, returns samples, and every sample satisfies the condition', () => {
    assert.equal(prometheusGateStatus({ ok: true, values: [0.1, 0.5] }, gate).status, 'ok');
    assert.deepEqual(prometheusGateStatus({ ok: false, error: 'connection refused' }, gate), {
      status: 'error',
      detail: 'query failed: connection refused',
    });
    assert.equal(prometheusGateStatus({ ok: true, values: [] }, gate).status, 'empty');
    const falsy = prometheusGateStatus({ ok: true, values: [0.1, 3] }, gate);
    assert.equal(falsy.status, 'false');
    assert.match(falsy.detail, /1 of 2 sample\(s\) fail sum\(rate\(errors\[5m\]\)\) < 1 \(e\.g\. 3\)/);
    assert.equal(prometheusGateStatus({ ok: true, values: [NaN] }, gate).status, 'false');
  });
});
