import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseRunbook } from '@hotswap/runbook';
import { decide, resolveMaxUnavailable, rolloutSpecOf } from '../src/index.js';
import { fleet, T0 } from './rollout.harness.js';

const FLEET_CANARY = new URL('../../../../deploy/runbooks/fleet-canary.yaml', import.meta.url);

describe('rolloutSpecOf', () => {
  it('reads the scheduler settings of a runbook', () => {
    const rollout = rolloutSpecOf(parseRunbook(readFileSync(FLEET_CANARY, 'utf8')));
    assert.deepEqual(rollout.strategy, {
      canary: 1,
      maxUnavailable: '10%',
      domainCap: { label: 'rack', max: 1 },
      pauseBetweenWavesSeconds: 600,
    });
    assert.equal(rollout.failurePolicy, 'rollback-host');
    assert.equal(rollout.prometheusGate, true);
    assert.equal(rollout.maintenanceWindows.length, 2);
    // Saturday noon in Paris is inside the all-day Saturday window.
    const decision = decide({ rollout, hosts: fleet(20, 4), events: [], now: Date.parse('2024-03-30T11:00:00Z') });
    assert.deepEqual(decision.start, [{ hostId: 'h01', wave: 0, direction: 'forward' }]);
    assert.deepEqual(
      decision.waves.map((wave) => wave.hosts.length),
      [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1],
    );
    const closed = decide({ rollout, hosts: fleet(20, 4), events: [], now: T0 + 12 * 3_600_000 });
    assert.equal(closed.state, 'waiting-window');
    assert.equal(closed.nextWakeAt, Date.parse('2024-03-25T21:00:00Z'));
  });

  it('resolves maxUnavailable: a count as is, a percentage of the hosts rounded up, at least 1', () => {
    assert.equal(resolveMaxUnavailable(3, 100), 3);
    assert.equal(resolveMaxUnavailable('10%', 15), 2);
    assert.equal(resolveMaxUnavailable('10%', 20), 2);
    assert.equal(resolveMaxUnavailable('10%', 21), 3);
    assert.equal(resolveMaxUnavailable('1%', 3), 1);
    assert.equal(resolveMaxUnavailable('100%', 0), 1);
  });
});
