import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { BoundDevice, Holder, LoadedModule, ModuleTarget } from '@hotswap/kernel';
import { next, resume, start, type SwapEffect, type SwapEvent, type SwapPlan, type SwapState } from '../src/index.js';

/**
 * Property tests of the swap state machine: the host's answers to every effect (an action
 * done, refused or stuck and later done or refused; modules freed or not; a verify that
 * matches or not) are generated, and invariants are checked on every run.
 */

const plan: SwapPlan = {
  modules: ['hs_ib', 'hs_core'],
  loads: [
    { module: 'hs_core', version: '2.0', params: [] },
    { module: 'hs_ib', version: '2.0', params: [] },
  ],
  devices: { bus: 'pci', driver: 'hs_core' },
  unbindDeadlineMs: 1000,
  zombieCloseDeadlineMs: 5000,
  actionDeadlineMs: 2000,
  recoveryWatchMs: 10000,
  pollMs: 50,
  blockedUnbind: { policy: 'fail', graceMs: 500 },
  hooks: { pre: [], post: [] },
};

const hook = (name: string) => ({
  name,
  argv: [`/etc/hotswap/hooks/${name}`],
  shell: false,
  timeoutMs: 1000,
  expect: [],
  successExitCodes: [0],
});
const withHooks: SwapPlan['hooks'] = { pre: [hook('drain'), hook('fw-check')], post: [hook('health')] };

const node = (minor: number, ino: number) => ({ path: `/dev/hs${minor}`, rdev: `240:${minor}`, ino });
const devices: BoundDevice[] = [
  { bus: 'pci', id: '0000:03:00.0', driver: 'hs_core', nodes: [node(0, 10)] },
  { bus: 'pci', id: '0000:04:00.0', driver: 'hs_core', nodes: [node(1, 11)] },
];
const mod = (name: string, srcversion: string, holders: string[]): LoadedModule => ({
  name,
  version: srcversion.startsWith('OLD') ? '1.0' : '2.0',
  srcversion,
  refcnt: holders.length,
  holders,
  dependsOn: [],
  unloadable: true,
  file: `/lib/modules/${name}-${srcversion}.ko`,
  params: [],
});
const previous = [mod('hs_ib', 'OLD_IB', []), mod('hs_core', 'OLD_CORE', ['hs_ib'])];
const targets: ModuleTarget[] = [
  { module: 'hs_core', file: '/new/hs_core.ko', version: '2.0', srcversion: 'NEW_CORE' },
  { module: 'hs_ib', file: '/new/hs_ib.ko', version: '2.0', srcversion: 'NEW_IB' },
];
const holders: Holder[] = [
  { pid: 100, comm: 'app', unit: 'app.service', files: [{ fd: 3, deleted: false, ...node(0, 10) }], mappings: [] },
];

/** Inspection fields these tests do not look at: no sysfs classes, no dependency, no note, no refusal. */
const noExtras = { nodeClasses: [], dependencies: [], notes: [], refusals: [] };

type ActionAnswer = 'done' | 'failed' | 'stuck-done' | 'stuck-failed';
interface Script {
  hooks?: boolean[];
  actions: ActionAnswer[];
  modulesFree: boolean[];
  verifyOk: boolean[];
  policy: 'fail' | 'signal';
}

const scriptArb: fc.Arbitrary<Script> = fc.record({
  actions: fc.array(fc.constantFrom<ActionAnswer>('done', 'done', 'done', 'failed', 'stuck-done', 'stuck-failed'), {
    maxLength: 30,
  }),
  modulesFree: fc.array(fc.boolean(), { maxLength: 4 }),
  verifyOk: fc.array(fc.boolean(), { maxLength: 4 }),
  policy: fc.constantFrom('fail', 'signal'),
  hooks: fc.option(fc.array(fc.boolean(), { maxLength: 4 }), { nil: undefined }),
});

interface Run {
  final: SwapState;
  actions: { kind: string; id: number; at: number; detail: string }[];
  finished: number;
  hooksRun: string[];
  violations: string[];
}

/** Drive one swap to its end, answering effects from the script (defaults: success). */
function drive(script: Script): Run {
  let t = 1_000;
  const p = {
    ...plan,
    blockedUnbind: { ...plan.blockedUnbind, policy: script.policy },
    hooks: script.hooks ? withHooks : plan.hooks,
  };
  let { state, effects } = start({ swapId: 's1', hostId: 'h1', plan: p, at: t });
  const pending: SwapEvent[] = [];
  const later: SwapEvent[] = [];
  const run: Run = { final: state, actions: [], finished: 0, hooksRun: [], violations: [] };
  let stuck: number | null = null;
  let actionIndex = 0;
  let loaded: 'previous' | 'target' | 'none' = 'previous';

  const answer = (effect: SwapEffect): void => {
    t += 10;
    switch (effect.kind) {
      case 'inspect':
        pending.push({ kind: 'inspected', at: t, devices, modules: previous, targets, holders, ...noExtras });
        return;
      case 'census':
        pending.push({ kind: 'census-taken', at: t, purpose: effect.purpose, holders });
        return;
      case 'await-modules-free': {
        const free = script.modulesFree.shift() ?? true;
        pending.push(
          free
            ? { kind: 'modules-free', at: t, waitedMs: 5, sawRefcnt: 1 }
            : { kind: 'modules-busy', at: t, refcnts: { hs_ib: 1 } },
        );
        return;
      }
      case 'read-state': {
        const ok = script.verifyOk.shift() ?? true;
        const srcFor = (m: LoadedModule) =>
          loaded === 'target' ? (targets.find((x) => x.module === m.name)?.srcversion ?? null) : m.srcversion;
        const modules = previous.map((m) => ({ ...m, srcversion: ok ? srcFor(m) : 'WRONG' }));
        const devs = devices.map((d) => ({ ...d, nodes: [node(Number(d.id.slice(5, 7)), 99)] }));
        pending.push({ kind: 'state-read', at: t, modules, devices: devs });
        return;
      }
      case 'watch-recovery':
        pending.push({ kind: 'recovery-ended', at: t, report: [] });
        return;
      case 'run-hook': {
        run.hooksRun.push(`${effect.stage}:${effect.hook.name}:${run.actions.length}`);
        const ok = script.hooks?.shift() ?? true;
        pending.push({
          kind: 'hook-finished',
          at: t,
          stage: effect.stage,
          index: effect.index,
          ok,
          detail: ok ? 'exit 0' : 'exit 3',
        });
        return;
      }
      case 'start-recovery-watch':
      case 'watch-blocking':
      case 'timer':
      case 'progress':
        return;
      case 'finished':
        run.finished++;
        return;
      case 'action': {
        if (stuck !== null && effect.action.kind !== 'signal') {
          run.violations.push(`action ${effect.action.kind} issued while action ${stuck} was stuck`);
        }
        const detail =
          'spec' in effect.action ? ('file' in effect.action.spec ? effect.action.spec.file : 'version') : '';
        run.actions.push({ kind: effect.action.kind, id: effect.id, at: t, detail });
        if (effect.action.kind === 'signal') return;
        const a = script.actions[actionIndex++] ?? 'done';
        if (effect.action.kind === 'unload' && (a === 'done' || a === 'stuck-done')) loaded = 'none';
        if (effect.action.kind === 'load' && (a === 'done' || a === 'stuck-done')) {
          loaded = 'file' in effect.action.spec && effect.action.spec.file.startsWith('/lib/') ? 'previous' : 'target';
        }
        if (a === 'done') pending.push({ kind: 'action-done', at: t, id: effect.id });
        else if (a === 'failed') pending.push({ kind: 'action-failed', at: t, id: effect.id, error: 'EIO: refused' });
        else {
          stuck = effect.id;
          pending.push({ kind: 'action-stuck', at: t, id: effect.id });
          later.push(
            a === 'stuck-done'
              ? { kind: 'action-done', at: 0, id: effect.id }
              : { kind: 'action-failed', at: 0, id: effect.id, error: 'EIO: late' },
          );
        }
      }
    }
  };

  for (const e of effects) answer(e);
  for (let steps = 0; steps < 500 && state.phase !== 'done'; steps++) {
    let event = pending.shift();
    if (!event) {
      event = later.shift();
      if (!event) break;
      stuck = null;
      t += 1000;
      event = { ...event, at: t };
    }
    ({ state, effects } = next(state, event));
    // The journal stores JSON: a state must survive the round trip, and resuming it must ask
    // for exactly what entering it asked for.
    assert.deepEqual(JSON.parse(JSON.stringify(state)), state);
    assert.deepEqual(resume(JSON.parse(JSON.stringify(state)) as SwapState), resume(state));
    for (const e of effects) answer(e);
  }
  run.final = state;
  return run;
}

describe('swap state machine', () => {
  it('a swap with every step succeeding unbinds, unloads, loads, rebinds, verifies and succeeds', () => {
    const run = drive({ actions: [], modulesFree: [], verifyOk: [], policy: 'fail' });
    assert.equal(run.final.phase, 'done');
    assert.equal(run.final.phase === 'done' && run.final.outcome, 'succeeded');
    assert.deepEqual(
      run.actions.map((a) => a.kind),
      ['unbind', 'unbind', 'unload', 'load', 'load', 'rebind', 'rebind'].map((k) => (k === 'rebind' ? 'bind' : k)),
    );
    assert.deepEqual(
      run.final.ctx.steps.map((s) => s.phase),
      [
        'preflight',
        'unbind',
        'unbind',
        'zombie-census',
        'zombie-wait',
        'unload',
        'load',
        'load',
        'rebind',
        'rebind',
        'verify',
        'recovery-watch',
      ],
    );
    assert.ok(run.final.ctx.steps.every((s) => s.endedAt !== null && s.ok === true));
  });

  it('a blocked unbind with policy fail waits for it, then rebinds the old driver and never unloads', () => {
    const run = drive({ actions: ['stuck-done'], modulesFree: [], verifyOk: [], policy: 'fail' });
    assert.equal(run.final.phase === 'done' && run.final.outcome, 'failed-restored');
    assert.deepEqual(
      run.actions.map((a) => a.kind),
      ['unbind', 'bind'],
    );
    assert.match(run.final.ctx.error ?? '', /blocked for .* by PIDs 100 \(policy fail\)/);
    assert.deepEqual(
      run.final.ctx.blocked?.holders.map((h) => h.pid),
      [100],
    );
  });

  it('a blocked unbind with policy signal sends SIGTERM to the holders and carries on once it returns', () => {
    const run = drive({ actions: ['stuck-done'], modulesFree: [], verifyOk: [], policy: 'signal' });
    assert.equal(run.final.phase === 'done' && run.final.outcome, 'succeeded');
    assert.deepEqual(
      run.actions.slice(0, 3).map((a) => a.kind),
      ['unbind', 'signal', 'unbind'],
    );
  });

  it('a process that opens the device while the unbind is blocked is named and signalled, with its own grace', () => {
    const p = { ...plan, blockedUnbind: { policy: 'signal' as const, graceMs: 500 } };
    let { state } = start({ swapId: 's', hostId: 'h', plan: p, at: 1 });
    ({ state } = next(state, { kind: 'inspected', at: 2, devices, modules: previous, targets, holders, ...noExtras }));
    assert.equal(state.phase, 'unbind');
    const unbindId = state.phase === 'unbind' ? state.actionId : -1;
    ({ state } = next(state, { kind: 'action-stuck', at: 3, id: unbindId }));
    assert.equal(state.phase, 'unbind-blocked');
    const signals = (effects: readonly SwapEffect[]) =>
      effects.flatMap((e) =>
        e.kind === 'action' && e.action.kind === 'signal' ? [`${e.action.signal} ${e.action.pid}`] : [],
      );
    const late: Holder = { ...holders[0]!, pid: 200, comm: 'restarted' };
    const census = (at: number, who: Holder[]): SwapEvent => ({
      kind: 'census-taken',
      at,
      purpose: 'blocking',
      holders: who,
    });

    // Within the first grace: SIGTERM for the newcomer alone, no new timer.
    let t = next(state, census(4, [...holders, late]));
    assert.deepEqual(signals(t.effects), ['SIGTERM 200']);
    assert.ok(!t.effects.some((e) => e.kind === 'timer'));
    assert.deepEqual(
      t.state.ctx.blocked?.holders.map((h) => h.pid),
      [100, 200],
    );
    assert.deepEqual(next(t.state, census(5, [...holders, late])).effects, [], 'a known holder is not signalled again');
    t = next(t.state, { kind: 'timer-fired', at: 6, name: 'grace' });
    assert.deepEqual(signals(t.effects), ['SIGKILL 100', 'SIGKILL 200']);

    // After the grace ran out: SIGTERM, then a grace of its own before its SIGKILL.
    const later: Holder = { ...holders[0]!, pid: 300, comm: 'restarted' };
    t = next(t.state, census(7, [later]));
    assert.deepEqual(signals(t.effects), ['SIGTERM 300']);
    assert.ok(t.effects.some((e) => e.kind === 'timer' && e.name === 'grace' && e.ms === 500));
    assert.deepEqual(resume(t.state), resume(JSON.parse(JSON.stringify(t.state)) as SwapState));
    t = next(t.state, { kind: 'timer-fired', at: 8, name: 'grace' });
    assert.deepEqual(signals(t.effects), ['SIGKILL 300']);
    assert.deepEqual(Object.keys(t.state.ctx.closedAt), ['100', '200']);
  });

  it('zombie FDs that never close: nothing is unloaded, the old driver is rebound', () => {
    const run = drive({ actions: [], modulesFree: [false], verifyOk: [], policy: 'fail' });
    assert.equal(run.final.phase === 'done' && run.final.outcome, 'failed-restored');
    assert.deepEqual(
      run.actions.map((a) => a.kind),
      ['unbind', 'unbind', 'bind', 'bind'],
    );
  });

  it('a load failure after unload reloads the previous files, then rebinds', () => {
    const run = drive({ actions: ['done', 'done', 'done', 'failed'], modulesFree: [], verifyOk: [], policy: 'fail' });
    assert.equal(run.final.phase === 'done' && run.final.outcome, 'failed-restored');
    const after = run.actions.slice(4);
    assert.deepEqual(
      after.map((a) => a.kind),
      ['unload', 'load', 'load', 'bind', 'bind'],
    );
    assert.deepEqual(
      after.filter((a) => a.kind === 'load').map((a) => a.detail),
      ['/lib/modules/hs_core-OLD_CORE.ko', '/lib/modules/hs_ib-OLD_IB.ko'],
    );
  });

  it('a host already on the target is skipped without any kernel action', () => {
    let { state } = start({ swapId: 's', hostId: 'h', plan, at: 1 });
    const onTarget = previous.map((m) => ({ ...m, srcversion: targets.find((x) => x.module === m.name)!.srcversion }));
    const t = next(state, { kind: 'inspected', at: 2, devices, modules: onTarget, targets, holders, ...noExtras });
    state = t.state;
    assert.equal(state.phase === 'done' && state.outcome, 'skipped');
    assert.ok(!t.effects.some((e) => e.kind === 'action'));
  });

  it('refuses a stack module used by a module outside the stack', () => {
    const used = [previous[0]!, { ...previous[1]!, holders: ['hs_ib', 'other_mod'] }];
    const { state } = next(start({ swapId: 's', hostId: 'h', plan, at: 1 }).state, {
      kind: 'inspected',
      at: 2,
      devices,
      modules: used,
      targets,
      holders,
      ...noExtras,
    });
    assert.equal(state.phase === 'done' && state.outcome, 'refused');
    assert.match(state.ctx.error ?? '', /used by other_mod/);
  });

  it('runs the pre-hooks in order before the unbind and the post-hooks after the recovery watch', () => {
    const run = drive({ actions: [], modulesFree: [], verifyOk: [], policy: 'fail', hooks: [true, true, true] });
    assert.equal(run.final.phase === 'done' && run.final.outcome, 'succeeded');
    assert.deepEqual(run.hooksRun, ['pre:drain:0', 'pre:fw-check:0', 'post:health:7']);
    assert.deepEqual(
      run.final.ctx.steps.map((s) => s.phase).filter((p) => p.endsWith('hooks')),
      ['pre-hooks', 'post-hooks'],
    );
  });

  it('a failing pre-hook refuses the swap before anything is touched', () => {
    const run = drive({ actions: [], modulesFree: [], verifyOk: [], policy: 'fail', hooks: [true, false] });
    assert.equal(run.final.phase === 'done' && run.final.outcome, 'refused');
    assert.deepEqual(run.actions, []);
    assert.match(run.final.ctx.error ?? '', /pre-hook fw-check failed: exit 3/);
  });

  it('a failing post-hook marks the swap failed, with the new driver in place', () => {
    const run = drive({ actions: [], modulesFree: [], verifyOk: [], policy: 'fail', hooks: [true, true, false] });
    assert.equal(run.final.phase === 'done' && run.final.outcome, 'failed');
    assert.match(run.final.ctx.error ?? '', /post-hook health failed/);
  });

  it('journals what modprobe -r takes along before the unload, loads it back first, and restores it after a failed load', () => {
    const dep = { ...mod('hs_dep', 'OLD_DEP', ['hs_core']), file: '/lib/modules/hs_dep.ko', params: ['x=1'] };
    const stack = [previous[0]!, { ...previous[1]!, dependsOn: ['hs_dep'] }];
    let t = start({ swapId: 's', hostId: 'h', plan, at: 1 });
    const actions = () => t.effects.flatMap((e) => (e.kind === 'action' ? [{ id: e.id, action: e.action }] : []));
    t = next(t.state, {
      kind: 'inspected',
      at: 2,
      devices,
      modules: stack,
      targets,
      holders,
      ...noExtras,
      dependencies: [dep],
    });
    assert.deepEqual(
      t.state.ctx.rollback?.map((r) => [r.module.name, r.why]),
      [
        ['hs_ib', 'stack'],
        ['hs_core', 'stack'],
        ['hs_dep', 'dependency'],
      ],
      'in the state journaled before any kernel action',
    );
    for (const _ of devices) t = next(t.state, { kind: 'action-done', at: 3, id: actions()[0]!.id });
    t = next(t.state, { kind: 'census-taken', at: 4, purpose: 'zombies', holders: [] });
    t = next(t.state, { kind: 'modules-free', at: 5, waitedMs: 0, sawRefcnt: 0 });
    t = next(t.state, { kind: 'action-done', at: 6, id: actions()[0]!.id }); // the unload
    assert.deepEqual(actions()[0]?.action, {
      kind: 'load',
      spec: { module: 'hs_dep', file: '/lib/modules/hs_dep.ko', params: ['x=1'] },
    });
    t = next(t.state, { kind: 'action-done', at: 7, id: actions()[0]!.id });
    assert.deepEqual(actions()[0]?.action, { kind: 'load', spec: plan.loads[0] });
    t = next(t.state, { kind: 'action-failed', at: 8, id: actions()[0]!.id, error: 'EIO: no' });
    const reloaded: string[] = [];
    for (let i = 0; i < 10 && t.state.phase === 'restore-reload'; i++) {
      const [a] = actions();
      if (a?.action.kind === 'load') reloaded.push(a.action.spec.module);
      t = next(t.state, { kind: 'action-done', at: 9 + i, id: a!.id });
    }
    assert.deepEqual(reloaded, ['hs_dep', 'hs_core', 'hs_ib'], 'dependencies first');
    const verify = t.effects.find((e) => e.kind === 'read-state');
    assert.deepEqual(verify && 'dependencies' in verify ? verify.dependencies : null, ['hs_dep']);
    t = next(t.state, {
      kind: 'state-read',
      at: 30,
      modules: stack,
      devices,
      dependencies: [{ ...dep, srcversion: 'NEW_DEP' }],
    });
    assert.equal(t.state.phase === 'done' && t.state.outcome, 'failed');
    assert.match(t.state.ctx.error ?? '', /load failed/);
    assert.match(t.state.ctx.steps.at(-1)?.detail ?? '', /module hs_dep has srcversion NEW_DEP, expected OLD_DEP/);
  });

  it('refuses with every host-level reason the adapter gives, before touching anything', () => {
    const t = next(start({ swapId: 's', hostId: 'h', plan, at: 1 }).state, {
      kind: 'inspected',
      at: 2,
      devices,
      modules: previous,
      targets,
      holders,
      ...noExtras,
      refusals: ['kernel.modules_disabled is set', 'vermagic mismatch'],
    });
    assert.equal(t.state.phase === 'done' && t.state.outcome, 'refused');
    assert.equal(t.state.ctx.error, 'kernel.modules_disabled is set; vermagic mismatch');
    assert.ok(!t.effects.some((e) => e.kind === 'action'));
  });

  it('starts watching the holders as soon as the last unbind returns, and again on resume', () => {
    let { state } = start({ swapId: 's', hostId: 'h', plan, at: 1 });
    ({ state } = next(state, { kind: 'inspected', at: 2, devices, modules: previous, targets, holders, ...noExtras }));
    const first = state.phase === 'unbind' ? state.actionId : -1;
    ({ state } = next(state, { kind: 'action-done', at: 3, id: first }));
    assert.equal(state.phase, 'unbind');
    const second = state.phase === 'unbind' ? state.actionId : -1;
    const t = next(state, { kind: 'action-done', at: 4, id: second });
    const watch = t.effects.find((e) => e.kind === 'start-recovery-watch');
    assert.ok(watch && watch.kind === 'start-recovery-watch');
    assert.deepEqual(watch.oldNodes, [
      { rdev: '240:0', ino: 10 },
      { rdev: '240:1', ino: 11 },
    ]);
    assert.deepEqual(
      watch.tracked.map((h) => [h.pid, h.t0Ms]),
      [[100, 3]],
    );
    assert.ok(resume(t.state).some((e) => e.kind === 'start-recovery-watch'));
  });

  it('invariants hold for any answers from the host', () => {
    fc.assert(
      fc.property(scriptArb, (script) => {
        const run = drive(script);
        assert.deepEqual(run.violations, []);
        // Every swap ends, and says so exactly once.
        assert.equal(run.final.phase, 'done');
        assert.equal(run.finished, 1);
        const outcome = run.final.phase === 'done' ? run.final.outcome : null;
        // Pre-hooks run before any kernel action; post-hooks only after a verified swap.
        assert.ok(run.hooksRun.filter((h) => h.startsWith('pre:')).every((h) => h.endsWith(':0')));
        if (run.hooksRun.some((h) => h.startsWith('post:'))) assert.ok(['succeeded', 'failed'].includes(outcome ?? ''));
        const kinds = run.actions.map((a) => a.kind);
        const firstUnload = kinds.indexOf('unload');
        // Unload comes only after every device was unbound.
        if (firstUnload >= 0)
          assert.ok(kinds.slice(0, firstUnload).filter((k) => k === 'unbind').length >= devices.length);
        // A failure before the unload never touches the modules.
        if (firstUnload < 0) assert.ok(!kinds.includes('load'));
        // Success means the target was loaded and verified; every step closed.
        if (outcome === 'succeeded') assert.ok(kinds.includes('load') && kinds.includes('bind'));
        assert.ok(run.final.ctx.steps.every((s) => s.endedAt !== null));
        // After an unload, a failed swap that claims to be restored reloaded the previous files.
        if (firstUnload >= 0 && outcome === 'failed-restored') {
          const loads = run.actions.filter((a) => a.kind === 'load').map((a) => a.detail);
          assert.ok(
            loads.includes('/lib/modules/hs_core-OLD_CORE.ko') && loads.includes('/lib/modules/hs_ib-OLD_IB.ko'),
          );
        }
      }),
      { numRuns: 500 },
    );
  });
});
