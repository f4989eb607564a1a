import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SwapOutcome } from '@hotswap/contracts';
import fc from 'fast-check';
import { nextSequentialStep, type HostProgress } from '../src/rollouts/next-sequential-step.js';

const OUTCOMES: readonly SwapOutcome[] = ['succeeded', 'skipped', 'failed', 'failed-restored', 'refused', 'expired'];
const PASSED: readonly HostProgress[] = ['succeeded', 'skipped'];
const ALL_STATES: readonly HostProgress[] = ['pending', 'queued', 'running', ...OUTCOMES];
const inFlight = (state: HostProgress): boolean => state === 'queued' || state === 'running';

interface Host {
  hostId: string;
  state: HostProgress;
}

/**
 * Drives a rollout the way the controller does: ask for the next step, start the host it
 * names, deliver that host's outcome (taken from `outcomes` in turn), until it says finish.
 * Checks the invariants after every decision.
 */
function drive(hostCount: number, outcomes: readonly SwapOutcome[], showRunning: readonly boolean[]) {
  const hosts: Host[] = Array.from({ length: hostCount }, (_, i) => ({ hostId: `h${i}`, state: 'pending' }));
  const started: string[] = [];
  for (let turn = 0; turn <= hostCount; turn++) {
    const step = nextSequentialStep({ hosts });
    assert.ok(hosts.filter((h) => inFlight(h.state)).length <= 1, 'more than one host in flight');
    if (step.kind === 'finish') return { hosts, started, finish: step.state };
    assert.equal(step.kind, 'start', 'nothing is in flight between turns: the step must start a host');
    if (step.kind !== 'start') break;
    const host = hosts.find((h) => h.hostId === step.hostId);
    assert.ok(host && host.state === 'pending', `started ${step.hostId}, which is not pending`);
    assert.equal(
      host,
      hosts.find((h) => h.state === 'pending'),
      'a host was skipped over in the listed order',
    );
    host.state = 'queued';
    started.push(host.hostId);
    // While it is in flight, however far it got, nothing else may start.
    assert.deepEqual(nextSequentialStep({ hosts }), { kind: 'wait' });
    if (showRunning[turn % showRunning.length]) {
      host.state = 'running';
      assert.deepEqual(nextSequentialStep({ hosts }), { kind: 'wait' });
    }
    host.state = outcomes[turn % outcomes.length] ?? 'succeeded';
  }
  assert.fail('the rollout did not finish after every host had its turn');
}

describe('nextSequentialStep (the spine scheduler)', () => {
  it('runs hosts one at a time in order, stops at the first failure, and leaves every host in one final state', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.constantFrom(...OUTCOMES), { minLength: 1, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
        (hostCount, outcomes, showRunning) => {
          const { hosts, started, finish } = drive(hostCount, outcomes, showRunning);
          const firstFailure = hosts.findIndex((h) => !PASSED.includes(h.state) && h.state !== 'pending');
          // Every host ends in exactly one state: never left queued or running.
          for (const host of hosts) assert.ok(!inFlight(host.state), `${host.hostId} left ${host.state}`);
          assert.deepEqual(
            started,
            hosts.filter((h) => h.state !== 'pending').map((h) => h.hostId),
          );
          if (firstFailure === -1) {
            assert.equal(finish, 'succeeded');
            assert.ok(hosts.every((h) => PASSED.includes(h.state)));
          } else {
            assert.equal(finish, 'failed');
            assert.ok(hosts.slice(0, firstFailure).every((h) => PASSED.includes(h.state)));
            assert.ok(
              hosts.slice(firstFailure + 1).every((h) => h.state === 'pending'),
              'a host started after a failure',
            );
          }
        },
      ),
    );
  });

  it('on any snapshot: waits while a host is in flight, and finishes only when none is', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALL_STATES), { minLength: 0, maxLength: 10 }), (states) => {
        const hosts = states.map((state, i) => ({ hostId: `h${i}`, state }));
        const step = nextSequentialStep({ hosts });
        if (states.some(inFlight)) assert.deepEqual(step, { kind: 'wait' });
        else if (states.some((s) => !PASSED.includes(s) && s !== 'pending'))
          assert.deepEqual(step, { kind: 'finish', state: 'failed' });
        else if (states.includes('pending'))
          assert.deepEqual(step, { kind: 'start', hostId: `h${states.indexOf('pending')}` });
        else assert.deepEqual(step, { kind: 'finish', state: 'succeeded' });
      }),
    );
  });

  it('examples', () => {
    const hosts = (...states: HostProgress[]) => ({ hosts: states.map((state, i) => ({ hostId: `h${i}`, state })) });
    assert.deepEqual(nextSequentialStep(hosts('pending', 'pending')), { kind: 'start', hostId: 'h0' });
    assert.deepEqual(nextSequentialStep(hosts('skipped', 'pending')), { kind: 'start', hostId: 'h1' });
    assert.deepEqual(nextSequentialStep(hosts('succeeded', 'running')), { kind: 'wait' });
    assert.deepEqual(nextSequentialStep(hosts('expired', 'pending')), { kind: 'finish', state: 'failed' });
    assert.deepEqual(nextSequentialStep(hosts('succeeded', 'skipped')), { kind: 'finish', state: 'succeeded' });
    // An empty rollout cannot be created (requireHosts), but the function stays total.
    assert.deepEqual(nextSequentialStep(hosts()), { kind: 'finish', state: 'succeeded' });
  });
});
