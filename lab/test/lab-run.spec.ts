import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateChecks } from '../src/checks.js';
import { parseGuestLine } from '../src/guest-records.js';
import { assembleRun } from '../src/lab-run.js';
import { compareRecoveries } from '../src/recovery-comparison.js';
import type { Check } from '../src/scenario-checks.schema.js';
import { guestLines } from './guest-run.fixtures.js';

const CHECKS: Check[] = [
  { check: 'swaps-succeed' },
  { check: 'apps-recover-every-cycle' },
  { check: 'app-errno', errno: 'ENODEV' },
  { check: 'app-recovery', app: 'fast', atLeastMs: 2000, atMostMs: 6000 },
  { check: 'holders-then-zombies', holders: 2, minZombies: 1 },
  { check: 'unload-refused-while-zombies' },
  { check: 'unload-after-last-close', withinMs: 100 },
  { check: 'agent-matches-apps', medianWithinMs: 5, maxWithinMs: 50 },
];

function verdicts(lines: ReturnType<typeof guestLines>, cyclesWanted = 3): Record<string, string> {
  const run = assembleRun(lines);
  const comparison = compareRecoveries(run);
  const results = evaluateChecks(
    {
      run,
      comparison,
      cyclesWanted,
      targets: [],
      swappedModule: 'virtio_console',
      unbindDeadlineMs: 5000,
      graceMs: 0,
      restartingApps: [],
    },
    CHECKS,
  );
  return Object.fromEntries(results.map((result) => [result.check.split(' ')[0]!, result.status]));
}

describe('guest lines', () => {
  it('parses records and the swap output, and flags anything else', () => {
    assert.equal(parseGuestLine('   '), null);
    assert.deepEqual(parseGuestLine('@swap-out 3 {"a":1}'), { kind: 'swap-out', cycle: 3, text: '{"a":1}' });
    assert.equal(parseGuestLine('{"t":"done","at":1}')?.kind, 'record');
    assert.equal(parseGuestLine('{"t":"done"}')?.kind, 'garbled');
    assert.equal(parseGuestLine('[   12.3] kernel noise')?.kind, 'garbled');
  });
});

describe('a run with the shell swap', () => {
  const run = assembleRun(guestLines(3));

  it("assigns each application's cycle to the swap it happened in", () => {
    assert.equal(run.cycles.length, 3);
    assert.deepEqual(
      run.cycles.map((cycle) => [...cycle.apps.keys()]),
      [
        ['fast', 'slow'],
        ['fast', 'slow'],
        ['fast', 'slow'],
      ],
    );
    assert.equal(run.cycles[0]?.result.kind, 'shell');
    assert.deepEqual(run.cycles[0]?.stderrTail, ['progress line']);
  });

  it('reports application figures only, and skips the agent comparison, saying why', () => {
    const comparison = compareRecoveries(run);
    assert.equal(comparison.basis, 'shell');
    assert.equal(comparison.absDiffMs, null);
    assert.deepEqual(
      comparison.applications.map((app) => [app.name, app.appMs?.median, app.cycles[0]?.agentMs]),
      [
        ['fast', 2200, null],
        ['slow', 2200, null],
      ],
    );
    const results = verdicts(guestLines(3));
    assert.equal(results['agent-matches-apps'], 'skipped');
    for (const [check, status] of Object.entries(results)) {
      if (check !== 'agent-matches-apps') assert.equal(status, 'pass', check);
    }
  });

  it('fails completion when cycles are missing, and every check when none ran', () => {
    assert.equal(verdicts(guestLines(2), 3)['guest-completed'], 'fail');
    assert.deepEqual(new Set(Object.values(verdicts(guestLines(0), 3))), new Set(['fail']));
  });
});

describe('a run with the agent', () => {
  it('gives per application and cycle the agent figure, the app figure and diffMs', () => {
    const run = assembleRun(guestLines(3, (app) => (app === 'fast' ? 3 : -4)));
    const comparison = compareRecoveries(run);
    assert.equal(comparison.basis, 'agent');
    const fast = comparison.applications.find((app) => app.name === 'fast');
    assert.deepEqual(fast?.cycles[0], {
      cycle: 1,
      errno: 'ENODEV',
      appMs: 2200,
      agentMs: 2203,
      diffMs: 3,
      // The fixture's error comes 0.5 ms after the unbind returned; diffMs = seenLagMs - unbindTailMs.
      unbindTailMs: -0.5,
      seenLagMs: 2.5,
      heldMs: 0,
      openErrors: ['ENOENT', 'ENXIO'],
    });
    assert.equal(comparison.absDiffMs?.median, 3.5);
    assert.deepEqual([comparison.unbindTailMs?.median, comparison.absSeenLagMs?.max], [-0.5, 4.5]);
    const results = verdicts(guestLines(3, (app) => (app === 'fast' ? 3 : -4)));
    assert.deepEqual(
      Object.values(results).filter((status) => status !== 'pass'),
      [],
      JSON.stringify(results),
    );
  });

  it('fails when the median difference passes 5 ms or one passes 50 ms', () => {
    assert.equal(verdicts(guestLines(3, () => 6))['agent-matches-apps'], 'fail');
    assert.equal(verdicts(guestLines(3, (app) => (app === 'fast' ? 51 : 0)))['agent-matches-apps'], 'fail');
  });
});
