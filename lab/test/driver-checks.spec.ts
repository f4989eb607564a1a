import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SwapReport } from '@hotswap/contracts';
import { evaluateChecks, type CheckContext } from '../src/checks.js';
import type { TargetFile } from '../src/guest-image.js';
import { parseGuestLine } from '../src/guest-records.js';
import { assembleRun } from '../src/lab-run.js';
import { compareRecoveries } from '../src/recovery-comparison.js';
import type { Check } from '../src/scenario-checks.schema.js';

/* The checks of the driver-family scenarios, on hand-written guest lines (monotonic ms). */

const WALL = 1_795_000_000_000; // realtime - monotonic in the guest
const TARGETS: TargetFile[] = [
  { file: '/lab/modules/hs_lab-2.0.ko', version: '2.0', srcversion: 'B2' },
  { file: '/lab/modules/hs_lab-1.0.ko', version: '1.0', srcversion: 'A1' },
];
const VERSIONS = { '1.0': 'A1', '2.0': 'B2' } as const;

const mod = (name: string, at: number, state: string, refcnt: number, version = '', holders = ''): string =>
  JSON.stringify({
    t: 'mod',
    name,
    at,
    state,
    refcnt,
    version,
    srcversion: VERSIONS[version as keyof typeof VERSIONS] ?? '',
    holders,
  });

const appStart = (name: string, pid: number, openedAt: number, ino: number): string =>
  JSON.stringify({
    t: 'app-start',
    name,
    pid,
    node: '/dev/hs_lab0',
    op: 'read',
    holdMs: 0,
    openedAt,
    realtimeMs: openedAt + WALL,
    monotonicMs: openedAt,
    dev: '10:124',
    ino,
  });

const appCycle = (
  name: string,
  pid: number,
  cycle: number,
  errorAt: number,
  closedAt: number,
  reopenAt: number,
  closingAt = closedAt,
) =>
  JSON.stringify({
    t: 'cycle',
    name,
    pid,
    cycle,
    errno: 'ENODEV',
    errorAt,
    closingAt,
    closedAt,
    reopenAt,
    recoveryMs: reopenAt - errorAt,
    openErrors: ['ENOENT'],
    openAttempts: 10,
  });

function report(cycle: number, fields: Partial<SwapReport>): string {
  const full: SwapReport = {
    swapId: `local-${cycle}`,
    hostId: 'lab',
    outcome: 'succeeded',
    modules: ['hs_lab'],
    fromVersion: null,
    toVersion: null,
    fromSrcversion: null,
    toSrcversion: null,
    devices: ['platform/hs_lab.0'],
    steps: [],
    holdersBefore: [],
    zombieFds: 1,
    recoveries: [],
    blockedUnbind: null,
    error: null,
    startedAt: 0,
    endedAt: 0,
    ...fields,
  };
  return `@swap-out ${cycle} ${JSON.stringify(full)}`;
}

/** The agent's dry run before a cycle, with these [kind, expected] predictions. */
function dryRun(cycle: number, predictions: [string, string][]): string {
  const plan = {
    v: 1,
    kind: 'dry-run',
    verdict: 'would-swap',
    predictions: predictions.map(([kind, expected]) => ({
      kind,
      subject: 'platform/hs_lab.0',
      expected,
      statement: `${kind} ${expected}`,
      source: 'table',
      basis: 'test',
    })),
  };
  return `@dry-run ${cycle} ${JSON.stringify(plan)}`;
}

function context(lines: string[], restartingApps: string[] = []): CheckContext {
  const run = assembleRun(lines.flatMap((line) => parseGuestLine(line) ?? []));
  return {
    run,
    comparison: compareRecoveries(run),
    cyclesWanted: 2,
    targets: TARGETS,
    swappedModule: 'hs_lab',
    unbindDeadlineMs: 3000,
    graceMs: 2000,
    restartingApps,
  };
}

function statuses(ctx: CheckContext, checks: Check[]): Record<string, string> {
  return Object.fromEntries(evaluateChecks(ctx, checks).map((r) => [r.check.split(' ')[0]!, r.status]));
}

/**
 * Two fenced cycles: hs_lab goes at +500 while slow holds its zombie until +3000; hs_core's
 * refcnt is 1 (slow's zombie) meanwhile, 3 after. `slowCloses` moves slow's close.
 */
function fencedLines(slowCloses = 3000, coreGone = false, unloadPrediction = 'free'): string[] {
  const lines = [
    '{"t":"init","at":1000,"release":"6.1.0-56-amd64","uptime":"1.0","scenario":"hs-fenced"}',
    mod('hs_lab', 1100, 'live', 0, '1.0'),
    mod('hs_core', 1100, 'live', 3, '1.0', 'hs_lab'),
    appStart('fast', 11, 1200, 100),
    appStart('slow', 12, 1200, 100),
  ];
  ['2.0', '1.0'].forEach((version, index) => {
    const cycle = index + 1;
    const t0 = cycle * 10_000;
    lines.push(
      dryRun(cycle, [
        ['unbind', 'returns'],
        ['unload', unloadPrediction],
        ['errno', 'ENODEV'],
      ]),
      JSON.stringify({ t: 'cycle-start', cycle, variant: index, at: t0 }),
      mod('hs_core', t0 + 100, 'live', 2, '1.0', 'hs_lab'),
      mod('hs_lab', t0 + 500, 'absent', -1),
      mod('hs_core', t0 + 500, coreGone ? 'absent' : 'live', coreGone ? -1 : 1, '1.0'),
      mod('hs_lab', t0 + 900, 'live', 0, version),
      mod('hs_core', t0 + 900, 'live', 2, '1.0', 'hs_lab'),
      mod('hs_core', t0 + slowCloses + 60, 'live', 3, '1.0', 'hs_lab'),
      appCycle('fast', 11, cycle, t0 + 50, t0 + 50, t0 + 950),
      appCycle('slow', 12, cycle, t0 + 50, t0 + slowCloses, t0 + slowCloses + 50),
      report(cycle, { steps: [{ phase: 'unload', startedAt: t0 + 400 + WALL, endedAt: t0 + 500 + WALL, ok: true }] }),
      JSON.stringify({ t: 'swap', cycle, exit: 0, startAt: t0, endAt: t0 + 3100, settledAt: t0 + 3200, settled: true }),
    );
  });
  lines.push('{"t":"done","at":40000}');
  return lines;
}

const FENCED: Check[] = [
  { check: 'dry-run-predictions' },
  { check: 'version-matches-target' },
  { check: 'srcversion-matches-target' },
  { check: 'unload-while-zombies' },
  { check: 'module-pinned', module: 'hs_core' },
];

describe('driver checks: fenced (lab-watch against the applications)', () => {
  it('pass when the driver went while a zombie pinned the core, and each cycle changed version', () => {
    assert.deepEqual(statuses(context(fencedLines()), FENCED), {
      'guest-completed': 'pass',
      'dry-run-predictions': 'pass',
      'version-matches-target': 'pass',
      'srcversion-matches-target': 'pass',
      'unload-while-zombies': 'pass',
      'module-pinned': 'pass',
    });
  });

  it('fail when every zombie was closed before the unload, or the core went too', () => {
    assert.equal(statuses(context(fencedLines(300)), FENCED)['unload-while-zombies'], 'fail');
    assert.equal(statuses(context(fencedLines(3000, true)), FENCED)['module-pinned'], 'fail');
  });

  it('dry-run-predictions fails on a prediction the cycle contradicts', () => {
    const checks = evaluateChecks(context(fencedLines(3000, false, 'waits')), [{ check: 'dry-run-predictions' }]);
    assert.equal(checks[1]?.status, 'fail');
    assert.match(checks[1]?.detail ?? '', /unload waits — saw free/);
  });

  it('fail when the loaded version is not the target', () => {
    const wrong = fencedLines().map((line) => line.replace('"version":"2.0"', '"version":"1.0"'));
    assert.equal(statuses(context(wrong), FENCED)['version-matches-target'], 'fail');
  });
});

/**
 * Two wait-scheme cycles with policy signal: the unbind is reported blocked at +3000 naming
 * both holders; they end by SIGTERM at +3100; new instances open the new node at +4000.
 */
function waitLines(holderEnds = true, writeAt = 100, w2Killed = false): string[] {
  const lines = [
    '{"t":"init","at":1000,"release":"6.1.0-56-amd64","uptime":"1.0","scenario":"hs-wait"}',
    mod('hs_lab', 1100, 'live', 2, '1.0'),
    appStart('w1', 21, 1200, 100),
    appStart('w2', 22, 1200, 100),
  ];
  ['2.0', '1.0'].forEach((version, index) => {
    const cycle = index + 1;
    const t0 = cycle * 10_000;
    // Instances 21 and 22 hold the device in cycle 1; each cycle's new ones are 10 higher.
    const [p1, p2] = [cycle * 10 + 11, cycle * 10 + 12] as const;
    const holders = [p1, p2].map((pid) => ({ pid, comm: 'refapp', unit: null, fds: 1, mappings: 0 }));
    lines.push(
      JSON.stringify({ t: 'cycle-start', cycle, variant: index, at: t0 }),
      JSON.stringify({ t: 'path', path: '/sys/class/misc/hs_lab0', at: t0 + writeAt, exists: false }),
    );
    if (holderEnds) {
      const terminated = w2Killed
        ? ([['w1', p1]] as const)
        : ([
            ['w1', p1],
            ['w2', p2],
          ] as const);
      for (const [name, pid] of terminated) {
        lines.push(JSON.stringify({ t: 'app-end', name, pid, cycles: 0, at: t0 + 3200, holding: true }));
      }
    }
    lines.push(
      mod('hs_lab', t0 + 3300, 'absent', -1),
      mod('hs_lab', t0 + 3600, 'live', 0, version),
      appStart('w1', p1 + 10, t0 + 4000, 200 + cycle),
      appStart('w2', p2 + 10, t0 + 4000, 200 + cycle),
      report(cycle, {
        blockedUnbind: { device: 'hs_lab.0', sinceSeconds: 0.15, holders },
        steps: [
          { phase: 'unbind', startedAt: t0 + WALL, endedAt: t0 + 3150 + WALL, ok: false },
          {
            phase: 'unbind-blocked',
            startedAt: t0 + 3150 + WALL,
            endedAt: t0 + (w2Killed ? 5200 : 3300) + WALL,
            ok: true,
          },
        ],
      }),
      JSON.stringify({ t: 'swap', cycle, exit: 0, startAt: t0, endAt: t0 + 4100, settledAt: t0 + 4200, settled: true }),
    );
  });
  lines.push('{"t":"done","at":40000}');
  return lines;
}

const WAIT: Check[] = [
  { check: 'unbind-blocked', holders: 2, writeMarker: '/sys/class/misc/hs_lab0', withinMs: 1000 },
  { check: 'holders-signalled', killed: [] },
  { check: 'apps-restart-every-cycle' },
  { check: 'version-matches-target' },
];

describe('driver checks: wait scheme (the agent against the applications)', () => {
  it('pass when the unbind was reported at the deadline, the holders ended by SIGTERM and came back', () => {
    assert.deepEqual(statuses(context(waitLines(), ['w1', 'w2']), WAIT), {
      'guest-completed': 'pass',
      'unbind-blocked': 'pass',
      'holders-signalled': 'pass',
      'apps-restart-every-cycle': 'pass',
      'version-matches-target': 'pass',
    });
  });

  it('unbind-blocked fails on a report long after the write reached the driver, or before the deadline', () => {
    const strict: Check = { check: 'unbind-blocked', holders: 2, writeMarker: '/sys/class/misc/hs_lab0', withinMs: 10 };
    assert.equal(statuses(context(waitLines(), ['w1', 'w2']), [strict])['unbind-blocked'], 'fail');
    assert.equal(statuses(context(waitLines(true, 1000), ['w1', 'w2']), WAIT)['unbind-blocked'], 'fail');
  });

  it('a holder that ignores SIGTERM must end by SIGKILL after the grace, the unbind returning then', () => {
    const killed: Check[] = [{ check: 'holders-signalled', killed: ['w2'] }];
    assert.equal(statuses(context(waitLines(true, 100, true), ['w1', 'w2']), killed)['holders-signalled'], 'pass');
    assert.equal(statuses(context(waitLines(), ['w1', 'w2']), killed)['holders-signalled'], 'fail');
  });

  it('fail when a holder left no app-end (killed, not terminated)', () => {
    assert.equal(statuses(context(waitLines(false), ['w1', 'w2']), WAIT)['holders-signalled'], 'fail');
  });

  it('old-driver-rebound: the rebind comes after the holder began to close, however late it read its clock after', () => {
    /** One wait-fail cycle: h1 lets go at 5000 ms, the agent rebinds at `rebindAt`; close() returned at 5000 + `closeTook`. */
    const failLines = (rebindAt: number, closeTook: number): string[] => {
      const t0 = 10_000;
      return [
        '{"t":"init","at":1000,"release":"6.1.0-56-amd64","uptime":"1.0","scenario":"hs-wait-fail"}',
        mod('hs_lab', 1100, 'live', 1, '1.0'),
        appStart('h1', 31, 1200, 100),
        JSON.stringify({ t: 'cycle-start', cycle: 1, variant: 0, at: t0 }),
        appCycle('h1', 31, 1, t0 + 100, t0 + 5000 + closeTook, t0 + 5100, t0 + 5000),
        report(1, {
          outcome: 'failed-restored',
          steps: [{ phase: 'restore-rebind', startedAt: t0 + rebindAt + WALL, endedAt: t0 + 5050 + WALL, ok: true }],
        }),
        JSON.stringify({
          t: 'swap',
          cycle: 1,
          exit: 1,
          startAt: t0,
          endAt: t0 + 5060,
          settledAt: t0 + 5200,
          settled: true,
        }),
        '{"t":"done","at":20000}',
      ];
    };
    const rebound = (lines: string[]) => {
      const ctx = { ...context(lines), cyclesWanted: 1 };
      return evaluateChecks(ctx, [{ check: 'old-driver-rebound' }]).find((r) => r.check === 'old-driver-rebound');
    };
    assert.equal(rebound(failLines(5003, 0.5))?.status, 'pass');
    // The close woke the blocked unbind, and h1 read its clock again only after the rebind had begun.
    const late = rebound(failLines(5003, 20));
    assert.equal(late?.status, 'pass', late?.detail);
    const early = rebound(failLines(4990, 0.5));
    assert.equal(early?.status, 'fail');
    assert.match(early?.detail ?? '', /rebind began 10 ms before the holders closed/);
  });

  it('swaps-fail and old-driver-rebound fail on swaps that succeeded with a new version', () => {
    const results = statuses(context(waitLines(), ['w1', 'w2']), [
      { check: 'swaps-fail', outcome: 'failed-restored' },
      { check: 'old-driver-rebound' },
    ]);
    assert.equal(results['swaps-fail'], 'fail');
    assert.equal(results['old-driver-rebound'], 'fail');
  });
});
