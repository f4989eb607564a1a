import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SwapOutcome } from '@hotswap/contracts';
import fc from 'fast-check';
import type { RolloutRecord } from '../src/rollouts/rollout.record.js';
import {
  MAX_STEPS_PER_HOST,
  advance,
  applyResult,
  applyStep,
  createRollout,
  type EventOutcome,
  type ResultInput,
  type StepInput,
} from '../src/rollouts/rollout.transitions.js';
import { toRolloutView } from '../src/rollouts/rollout.view.js';
import { reportFor, runbookFor } from './fixtures.js';

const HOSTS = ['host-a', 'host-b', 'host-c'];
const swapIdOf = (hostId: string): string => `r-1-${hostId}-forward`;
const start = (): RolloutRecord => advance(createRollout('r-1', runbookFor('demo', HOSTS), HOSTS, 1000), 1000);

const step = (hostId: string, at: number, phase = 'unbind', status = 'started'): StepInput => ({
  hostId,
  swapId: swapIdOf(hostId),
  direction: 'forward',
  at,
  phase,
  status,
});
const result = (hostId: string, outcome: SwapOutcome, recoveries: [never, never][] = []): ResultInput => ({
  hostId,
  swapId: swapIdOf(hostId),
  direction: 'forward',
  at: 5000,
  report: reportFor(hostId, swapIdOf(hostId), outcome, recoveries),
});

/** Applies and returns the new record, failing if the event was not applied. */
function applied(outcome: EventOutcome): RolloutRecord {
  assert.equal(outcome.disposition, 'applied', outcome.reason);
  assert.ok(outcome.record);
  return outcome.record;
}
const statesOf = (record: RolloutRecord): string[] => record.hosts.map((h) => h.state);

describe('rollout transitions', () => {
  it('a new rollout has its first host queued and the others pending', () => {
    const record = start();
    assert.equal(record.state, 'running');
    assert.deepEqual(statesOf(record), ['queued', 'pending', 'pending']);
  });

  it('steps mark the host running; results move on to the next host, then finish', () => {
    let record = applied(applyStep(start(), step('host-a', 2000), 2000));
    assert.deepEqual(statesOf(record), ['running', 'pending', 'pending']);
    record = applied(applyResult(record, result('host-a', 'succeeded'), 3000));
    assert.deepEqual(statesOf(record), ['succeeded', 'queued', 'pending']);
    record = applied(applyResult(record, result('host-b', 'skipped'), 4000));
    record = applied(applyResult(record, result('host-c', 'succeeded'), 5000));
    assert.equal(record.state, 'succeeded');
    assert.equal(record.finishedAt, 5000);
  });

  it('a failure stops the rollout and leaves the remaining hosts pending', () => {
    const record = applied(applyResult(start(), result('host-a', 'failed-restored'), 3000));
    assert.equal(record.state, 'failed');
    assert.deepEqual(statesOf(record), ['failed-restored', 'pending', 'pending']);
  });

  it('the same result twice is a no-op, keyed on the swap id', () => {
    const once = applied(applyResult(start(), result('host-a', 'succeeded'), 3000));
    assert.deepEqual(applyResult(once, result('host-a', 'succeeded'), 3001), {
      record: null,
      disposition: 'duplicate',
    });
    const other = { ...result('host-a', 'failed'), swapId: 'another-swap' };
    assert.equal(applyResult(once, other, 3002).disposition, 'ignored');
  });

  it('a redelivered step is a no-op; steps stay sorted by time and bounded', () => {
    let record = applied(applyStep(start(), step('host-a', 2000, 'unbind'), 2000));
    assert.equal(applyStep(record, step('host-a', 2000, 'unbind'), 2001).disposition, 'duplicate');
    record = applied(applyStep(record, step('host-a', 1500, 'preflight', 'completed'), 2002));
    assert.deepEqual(
      record.hosts[0]?.steps.map((s) => s.phase),
      ['preflight', 'unbind'],
    );
    for (let i = 0; i < MAX_STEPS_PER_HOST + 20; i++)
      record = applied(applyStep(record, step('host-a', 3000 + i, 'zombie-wait'), 3000));
    assert.equal(record.hosts[0]?.steps.length, MAX_STEPS_PER_HOST);
    assert.equal(record.hosts[0]?.steps.at(-1)?.at, 3000 + MAX_STEPS_PER_HOST + 19);
  });

  it('a late step does not reopen a host that reported its result', () => {
    const done = applied(applyResult(start(), result('host-a', 'succeeded'), 3000));
    const late = applied(applyStep(done, step('host-a', 2500, 'verify', 'completed'), 3100));
    assert.equal(late.hosts[0]?.state, 'succeeded');
  });

  it('rejects events for hosts outside the rollout and unknown outcomes; ignores rollback events', () => {
    assert.equal(applyStep(start(), step('host-z', 2000), 2000).disposition, 'rejected');
    assert.equal(applyResult(start(), result('host-z', 'succeeded'), 2000).disposition, 'rejected');
    const odd = result('host-a', 'succeeded');
    assert.equal(
      applyResult(start(), { ...odd, report: { ...odd.report, outcome: 'exploded' as SwapOutcome } }, 2000).disposition,
      'rejected',
    );
    assert.equal(
      applyResult(start(), { ...result('host-a', 'succeeded'), direction: 'rollback' }, 2000).disposition,
      'ignored',
    );
  });

  it('summarises recoveries across hosts', () => {
    let record = applied(
      applyResult(
        start(),
        {
          ...result('host-a', 'succeeded'),
          report: reportFor('host-a', swapIdOf('host-a'), 'succeeded', [
            ['recovered', 0.4],
            ['restarted', 2.5],
            ['not-recovered', null],
          ]),
        },
        3000,
      ),
    );
    record = applied(
      applyResult(
        record,
        {
          ...result('host-b', 'succeeded'),
          report: reportFor('host-b', swapIdOf('host-b'), 'succeeded', [
            ['recovered', 0.2],
            ['exited', null],
          ]),
        },
        4000,
      ),
    );
    const view = toRolloutView(record);
    assert.deepEqual(view.summary, {
      hostsTotal: 3,
      hostsDone: 2,
      recoveries: 5,
      recoveryP50Seconds: 0.4,
      recoveryMaxSeconds: 2.5,
      notRecovered: 2,
    });
    assert.equal(view.hosts[0]?.recoveries.length, 3);
  });

  it('whatever the order and repetition of events, at most one host is in flight and each result counts once', () => {
    type Ev = { kind: 'step' | 'result'; host: number; outcome: SwapOutcome; at: number };
    const event = fc.record({
      kind: fc.constantFrom<'step' | 'result'>('step', 'result'),
      host: fc.integer({ min: 0, max: HOSTS.length - 1 }),
      outcome: fc.constantFrom<SwapOutcome>('succeeded', 'skipped', 'succeeded', 'failed', 'refused'),
      at: fc.integer({ min: 1, max: 100 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events: Ev[]) => {
        let record = start();
        const counted = new Set<string>();
        for (const ev of events) {
          const hostId = HOSTS[ev.host] ?? 'host-a';
          // Agents only run hosts the controller started: events for pending hosts never come.
          if (record.hosts.find((h) => h.hostId === hostId)?.state === 'pending') continue;
          const outcome =
            ev.kind === 'step'
              ? applyStep(record, step(hostId, ev.at), ev.at)
              : applyResult(record, result(hostId, ev.outcome), ev.at);
          if (outcome.disposition === 'applied' && ev.kind === 'result') {
            assert.ok(!counted.has(hostId), `result of ${hostId} applied twice`);
            counted.add(hostId);
          }
          if (outcome.record) record = outcome.record;
          const flying = record.hosts.filter((h) => h.state === 'queued' || h.state === 'running');
          assert.ok(flying.length <= 1, `in flight: ${flying.map((h) => h.hostId).join(', ')}`);
          if (record.state !== 'running') assert.equal(flying.length, 0);
        }
      }),
    );
  });
});
