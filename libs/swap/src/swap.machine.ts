import type {
  BlockedUnbind,
  ModulePin,
  StepRecord,
  SwapOutcome,
  SwapPhase,
  SwapPrediction,
  SwapReport,
} from '@hotswap/contracts';
import type { BoundDevice, DeviceNode, Holder, LoadSpec, LoadedModule, ModuleTarget } from '@hotswap/kernel';
import { holdsAny, identitiesOf, identityOf, type FileIdentity } from './file-identity.js';
import type { TrackedHolder } from './recovery.tracker.js';
import type { KernelAction, RecoveryWatchSpec, SwapEffect, SwapEvent } from './swap.effects.js';
import type { SwapPlan } from './swap-plan.js';
import { summarizeHolder } from './holder-summary.js';
import { reloadSpecOf } from './reload-spec.js';
import { modulesRemovedWith, reloadOrder, rollbackModuleOf, type RemovedModule } from './module-removal.set.js';
import { checkPredictions, type SwapObservations } from './prediction.check.js';
import { preflightVerdict } from './preflight.verdict.js';
import { predictSwap } from './subsystem.prediction.js';

/**
 * The per-host swap as one explicit state machine (DESIGN.md "Swap, per host"):
 *
 *   preflight -> unbind -> zombie-census -> zombie-wait -> unload -> load -> rebind -> verify
 *     -> recovery-watch -> done
 *   failure before unload -> restore-rebind (the old driver, once the device is free) -> failed-restored
 *   failure after unload  -> restore-reload (previous files and params) -> rebind -> failed-restored
 *
 * `next(state, event)` is pure and returns the new state and the effects to perform. The
 * runner persists every new state (journal, fsync) BEFORE performing its effects, and a
 * restarted runner calls `resume(state)` to perform the current state's effects again; the
 * kernel actions are idempotent for that reason (unbind of an unbound device, load of a loaded
 * module and bind of a bound device are no-ops).
 *
 * An unbind past its deadline is never waited on: the machine records it as stuck, names the
 * processes that hold the device, attempts nothing else on the host while it lives, and
 * follows the blocked-unbind policy when it finally returns.
 */

export interface SwapContext {
  readonly swapId: string;
  readonly hostId: string;
  readonly startedAt: number;
  readonly plan: SwapPlan;
  /** Devices as found in preflight, with their OLD nodes. */
  readonly devices: readonly BoundDevice[];
  /** The stack as it was loaded, in unload order: what a rollback reloads. */
  readonly previous: readonly LoadedModule[];
  /** Resolved load targets, in load order. */
  readonly targets: readonly ModuleTarget[];
  readonly holdersBefore: readonly Holder[];
  /** Device id -> when its unbind returned. */
  readonly unbound: Readonly<Record<string, number>>;
  /** PID -> when it was seen to have closed its file on a blocked device (wait scheme). */
  readonly closedAt: Readonly<Record<string, number>>;
  readonly zombieFds: number;
  readonly recoveries: SwapReport['recoveries'];
  readonly steps: readonly StepRecord[];
  readonly blocked: (BlockedUnbind & { readonly startedAt: number }) | null;
  /** A kernel action past its deadline that has not returned yet. */
  readonly stuck: { readonly id: number; readonly kind: KernelAction['kind'] } | null;
  readonly nextActionId: number;
  readonly error: string | null;
  readonly unloadWait: {
    readonly waitedMs: number;
    readonly sawRefcnt: number;
    /** Zombie files still open when the stack was found free (absent: not counted). */
    readonly zombiesOpen?: number;
  } | null;
  /** Device id -> zombie FDs on its old nodes at the census after the unbinds. */
  readonly zombiesByDevice?: Readonly<Record<string, number>>;
  /** What preflight predicted (checked against what happened in the report). */
  readonly predictions?: readonly SwapPrediction[];
  /** Modules whose refcount open files held up in preflight, and by whom. */
  readonly pins?: readonly ModulePin[];
  /**
   * Everything `modprobe -r` of the stack removes (the stack, and dependencies left unused), as
   * loaded before the swap, in unload order: what a restore loads back. Journaled before any unload.
   */
  readonly rollback?: readonly RemovedModule[];
}

export type SwapPhaseState =
  | { readonly phase: 'preflight' }
  | { readonly phase: 'pre-hooks'; readonly index: number }
  | { readonly phase: 'post-hooks'; readonly index: number; readonly outcome: SwapOutcome }
  | { readonly phase: 'unbind'; readonly index: number; readonly actionId: number }
  | { readonly phase: 'unbind-blocked'; readonly index: number; readonly actionId: number; readonly killed: boolean }
  | { readonly phase: 'zombie-census' }
  | { readonly phase: 'zombie-wait' }
  | { readonly phase: 'unload'; readonly actionId: number }
  | { readonly phase: 'load'; readonly index: number; readonly actionId: number }
  | { readonly phase: 'rebind'; readonly index: number; readonly actionId: number }
  | { readonly phase: 'verify'; readonly expect: 'target' | 'previous-driver' | 'previous-modules' }
  | { readonly phase: 'recovery-watch'; readonly outcome: SwapOutcome }
  | { readonly phase: 'restore-rebind'; readonly index: number; readonly actionId: number }
  | {
      readonly phase: 'restore-reload';
      readonly stage: 'unload' | 'load' | 'bind';
      readonly index: number;
      readonly actionId: number;
    }
  | { readonly phase: 'done'; readonly outcome: SwapOutcome };

export type SwapState = SwapPhaseState & { readonly ctx: SwapContext };

export interface Transition {
  readonly state: SwapState;
  readonly effects: readonly SwapEffect[];
}

export interface SwapStart {
  readonly swapId: string;
  readonly hostId: string;
  readonly plan: SwapPlan;
  readonly at: number;
}

export function start(input: SwapStart): Transition {
  const ctx: SwapContext = {
    swapId: input.swapId,
    hostId: input.hostId,
    startedAt: input.at,
    plan: input.plan,
    devices: [],
    previous: [],
    targets: [],
    holdersBefore: [],
    unbound: {},
    closedAt: {},
    zombieFds: 0,
    recoveries: [],
    steps: [{ phase: 'preflight', startedAt: input.at, endedAt: null, ok: null }],
    blocked: null,
    stuck: null,
    nextActionId: 1,
    error: null,
    unloadWait: null,
  };
  const state: SwapState = { phase: 'preflight', ctx };
  return { state, effects: [{ kind: 'progress', phase: 'preflight', status: 'started' }, ...enter(state)] };
}

/** The effects of the current state, performed again by a runner restarted from its journal. */
export function resume(state: SwapState): readonly SwapEffect[] {
  const watching = WATCHING_PHASES.has(state.phase) && Object.keys(state.ctx.unbound).length > 0;
  const watch: SwapEffect[] = watching ? [{ kind: 'start-recovery-watch', ...recoveryWatchSpec(state.ctx) }] : [];
  return [...watch, ...enter(state)];
}

export function isTerminal(state: SwapState): state is SwapState & { phase: 'done' } {
  return state.phase === 'done';
}

export function next(state: SwapState, event: SwapEvent): Transition {
  const stay: Transition = { state, effects: [] };
  if (state.phase === 'done') return stay;

  // A stuck action that finally returns: clear it, then let the phase handle the result.
  if ((event.kind === 'action-done' || event.kind === 'action-failed') && state.ctx.stuck?.id === event.id) {
    state = { ...state, ctx: { ...state.ctx, stuck: null } };
  }
  if (event.kind === 'action-stuck') return onStuck(state, event.id, event.at);

  switch (state.phase) {
    case 'preflight':
      if (event.kind === 'inspected') return onInspected(state, event);
      if (event.kind === 'query-failed')
        return finish(state, event.at, 'refused', `cannot inspect host: ${event.error}`);
      return stay;

    case 'pre-hooks':
    case 'post-hooks':
      return onHook(state, event);

    case 'unbind':
      if (!isAnswer(event, state.actionId)) return stay;
      if (event.kind === 'action-failed') return restoreBeforeUnload(state, event.at, `unbind failed: ${event.error}`);
      return afterUnbind(state, state.index, event.at);

    case 'unbind-blocked':
      return onBlocked(state, event);

    case 'zombie-census':
      if (event.kind === 'census-taken' && event.purpose === 'zombies') {
        const old = oldIdentities(state.ctx);
        const zombieFds = event.holders.reduce((n, h) => n + h.files.filter((f) => old.has(identityOf(f))).length, 0);
        // Per device, files and mappings alike: whatever is still open shows the unbind did not wait for it.
        const zombiesByDevice = Object.fromEntries(
          state.ctx.devices.map((d) => {
            const ids = identitiesOf(d.nodes);
            const open = (h: Holder) => [...h.files, ...h.mappings].filter((f) => ids.has(identityOf(f))).length;
            return [d.id, event.holders.reduce((n, h) => n + open(h), 0)];
          }),
        );
        return go(
          { ...state, ctx: { ...state.ctx, zombieFds, zombiesByDevice } },
          { phase: 'zombie-wait' },
          event.at,
          true,
          `${zombieFds} zombie FD(s)`,
        );
      }
      if (event.kind === 'query-failed') return restoreBeforeUnload(state, event.at, `census failed: ${event.error}`);
      return stay;

    case 'zombie-wait':
      if (event.kind === 'modules-free') {
        const { waitedMs, sawRefcnt, zombiesOpen } = event;
        const unloadWait = { waitedMs, sawRefcnt, ...(zombiesOpen === undefined ? {} : { zombiesOpen }) };
        const ctx = { ...state.ctx, unloadWait };
        const detail =
          event.sawRefcnt > 0 ? `unload refused (refcnt ${event.sawRefcnt}) for ${event.waitedMs} ms` : 'free';
        return goAction({ ...state, ctx }, (id) => ({ phase: 'unload', actionId: id }), event.at, true, detail);
      }
      if (event.kind === 'modules-busy') {
        // Recorded so the report can check the unload prediction: the stack had to wait, in vain.
        const sawRefcnt = Math.max(0, ...Object.values(event.refcnts));
        const unloadWait = { waitedMs: state.ctx.plan.zombieCloseDeadlineMs, sawRefcnt };
        const waited: SwapState = { ...state, ctx: { ...state.ctx, unloadWait } };
        const refs = Object.entries(event.refcnts)
          .map(([m, n]) => `${m} refcnt ${n}`)
          .join(', ');
        const pids = zombieHolderPids(state.ctx);
        return restoreBeforeUnload(
          waited,
          event.at,
          `modules still in use after ${state.ctx.plan.zombieCloseDeadlineMs} ms (${refs}); zombie FDs held by PIDs ${pids}`,
        );
      }
      if (event.kind === 'query-failed')
        return restoreBeforeUnload(state, event.at, `refcnt check failed: ${event.error}`);
      return stay;

    case 'unload':
      if (!isAnswer(event, state.actionId)) return stay;
      if (event.kind === 'action-failed') return restoreAfterUnload(state, event.at, `unload failed: ${event.error}`);
      return forwardLoads(state.ctx).length === 0
        ? goAction(state, (id) => ({ phase: 'rebind', index: 0, actionId: id }), event.at, true)
        : goAction(state, (id) => ({ phase: 'load', index: 0, actionId: id }), event.at, true);

    case 'load':
      if (!isAnswer(event, state.actionId)) return stay;
      if (event.kind === 'action-failed') return restoreAfterUnload(state, event.at, `load failed: ${event.error}`);
      if (state.index + 1 < forwardLoads(state.ctx).length) {
        return goAction(state, (id) => ({ phase: 'load', index: state.index + 1, actionId: id }), event.at, true);
      }
      return goAction(state, (id) => ({ phase: 'rebind', index: 0, actionId: id }), event.at, true);

    case 'rebind':
      if (!isAnswer(event, state.actionId)) return stay;
      if (event.kind === 'action-failed') return restoreAfterUnload(state, event.at, `rebind failed: ${event.error}`);
      if (state.index + 1 < state.ctx.devices.length) {
        return goAction(state, (id) => ({ phase: 'rebind', index: state.index + 1, actionId: id }), event.at, true);
      }
      return go(state, { phase: 'verify', expect: 'target' }, event.at, true);

    case 'verify':
      return onVerify(state, event);

    case 'recovery-watch':
      if (event.kind === 'recovery-ended') {
        const ctx = { ...state.ctx, recoveries: event.report };
        const watched: SwapState = { ...state, ctx };
        const detail = recoveryDetail(event.report);
        if (state.outcome === 'succeeded' && ctx.plan.hooks.post.length > 0) {
          return go(watched, { phase: 'post-hooks', index: 0, outcome: state.outcome }, event.at, true, detail);
        }
        return finish(watched, event.at, state.outcome, null, detail);
      }
      if (event.kind === 'query-failed')
        return finish(state, event.at, state.outcome, null, `watch failed: ${event.error}`);
      return stay;

    case 'restore-rebind':
      if (!isAnswer(event, state.actionId)) return stay;
      if (event.kind === 'action-failed')
        return finish(state, event.at, 'failed', `restore: rebind of the old driver failed: ${event.error}`);
      return nextRestoreRebind(state, state.index + 1, event.at);

    case 'restore-reload':
      return onRestoreReload(state, event);
  }
}

function onInspected(state: SwapState, event: Extract<SwapEvent, { kind: 'inspected' }>): Transition {
  const { plan } = state.ctx;
  const verdict = preflightVerdict(plan, event);
  if (verdict.verdict === 'refuse') return finish(state, event.at, 'refused', verdict.reasons.join('; '));
  const predicted = predictSwap({
    modules: plan.modules,
    driver: plan.devices.driver,
    devices: event.devices,
    nodeClasses: event.nodeClasses,
    loaded: event.modules,
    holders: event.holders,
    override: plan.subsystem,
  });
  const ctx: SwapContext = {
    ...state.ctx,
    devices: event.devices,
    previous: verdict.previous,
    targets: event.targets,
    holdersBefore: event.holders,
    predictions: predicted.predictions,
    pins: predicted.pins,
    rollback: modulesRemovedWith(verdict.previous, new Map(event.dependencies.map((m) => [m.name, m]))),
  };
  const next: SwapState = { ...state, ctx };
  if (verdict.verdict === 'skip') return finish(next, event.at, 'skipped', null, verdict.reasons.join('; '));
  const notes = event.notes.length > 0 ? `; ${event.notes.join('; ')}` : '';
  const detail = `${event.devices.length} device(s), ${event.holders.length} holder(s)${notes}`;
  if (plan.hooks.pre.length > 0) return go(next, { phase: 'pre-hooks', index: 0 }, event.at, true, detail);
  return goAction(next, (id) => ({ phase: 'unbind', index: 0, actionId: id }), event.at, true, detail);
}

/**
 * Hooks run one after another. A pre-hook that fails refuses the swap (nothing was touched
 * yet); a post-hook that fails marks the swap failed: the new driver is in place, but the
 * runbook's own check says the host is not right, and the failure policy decides what follows.
 */
function onHook(state: SwapState & { phase: 'pre-hooks' | 'post-hooks' }, event: SwapEvent): Transition {
  const stage = state.phase === 'pre-hooks' ? 'pre' : 'post';
  if (event.kind !== 'hook-finished' || event.stage !== stage || event.index !== state.index) {
    return { state, effects: [] };
  }
  const hooks = state.ctx.plan.hooks[stage];
  const name = hooks[state.index]?.name ?? '?';
  if (!event.ok) {
    const why = `${stage}-hook ${name} failed: ${event.detail}`;
    return finish(state, event.at, stage === 'pre' ? 'refused' : 'failed', why);
  }
  const detail = `${name}: ${event.detail}`;
  if (state.index + 1 < hooks.length) {
    const moved: SwapState = { ...state, index: state.index + 1 };
    return {
      state: moved,
      effects: [{ kind: 'progress', phase: state.phase, status: 'started', detail }, ...enter(moved)],
    };
  }
  if (state.phase === 'post-hooks') return finish(state, event.at, state.outcome, null, detail);
  return goAction(state, (id) => ({ phase: 'unbind', index: 0, actionId: id }), event.at, true, detail);
}

function afterUnbind(state: SwapState, index: number, at: number): Transition {
  const device = state.ctx.devices[index];
  const ctx = device ? { ...state.ctx, unbound: { ...state.ctx.unbound, [device.id]: at } } : state.ctx;
  const moved: SwapState = { ...state, ctx };
  if (index + 1 < ctx.devices.length) {
    return goAction(moved, (id) => ({ phase: 'unbind', index: index + 1, actionId: id }), at, true);
  }
  return go(moved, { phase: 'zombie-census' }, at, true);
}

function onStuck(state: SwapState, id: number, at: number): Transition {
  const kind = actionKindOf(state, id);
  if (kind === null) return { state, effects: [] };
  const ctx = { ...state.ctx, stuck: { id, kind } };
  if (state.phase !== 'unbind' || state.actionId !== id) {
    // Any other action past its deadline: nothing else is attempted until it returns.
    return {
      state: { ...state, ctx },
      effects: [
        {
          kind: 'progress',
          phase: state.phase as SwapPhase,
          status: 'blocked',
          detail: `${kind} past its deadline; waiting for it to return`,
        },
      ],
    };
  }
  const device = ctx.devices[state.index];
  const nodes = device?.nodes ?? [];
  const ids = identitiesOf(nodes);
  const holders = state.ctx.holdersBefore.filter((h) => holdsAny(h, ids));
  const blocked = { device: device?.id ?? '?', sinceSeconds: 0, holders: holders.map(summarizeHolder), startedAt: at };
  const detail = `unbind of ${blocked.device} did not return within ${ctx.plan.unbindDeadlineMs} ms; held by PIDs ${pidList(holders)}`;
  const to = { phase: 'unbind-blocked', index: state.index, actionId: id, killed: false } as const;
  const moved = go({ ...state, ctx: { ...ctx, blocked } }, to, at, false, detail, 'blocked');
  if (ctx.plan.blockedUnbind.policy !== 'signal') return moved;
  const signalled = signalHolders(moved.state as SwapState & { phase: 'unbind-blocked' }, 'SIGTERM');
  return { state: signalled.state, effects: [...moved.effects, ...signalled.effects] };
}

function onBlocked(state: SwapState & { phase: 'unbind-blocked' }, event: SwapEvent): Transition {
  const { ctx } = state;
  const device = ctx.devices[state.index];
  if (event.kind === 'census-taken' && event.purpose === 'blocking' && ctx.blocked) {
    // Note when each blocking holder lets go: in the wait scheme its recovery clock starts there.
    const ids = identitiesOf(device?.nodes ?? []);
    const holding = event.holders.filter((h) => holdsAny(h, ids));
    const still = new Set(holding.map((h) => h.pid));
    const closed = ctx.blocked.holders.filter((h) => !still.has(h.pid) && ctx.closedAt[h.pid] === undefined);
    const named = new Set(ctx.blocked.holders.map((h) => h.pid));
    const joined = holding.filter((h) => !named.has(h.pid));
    // Most polls change nothing: the same state means nothing to journal.
    if (closed.length === 0 && joined.length === 0) return { state, effects: [] };
    const closedAt = { ...ctx.closedAt, ...Object.fromEntries(closed.map((h) => [h.pid, event.at])) };
    const blocked = { ...ctx.blocked, holders: [...ctx.blocked.holders, ...joined.map(summarizeHolder)] };
    const noted = { ...state, ctx: { ...ctx, closedAt, blocked } };
    return joined.length === 0 ? { state: noted, effects: [] } : onJoined(noted, joined);
  }
  if (event.kind === 'timer-fired' && event.name === 'grace' && !state.killed) {
    return signalHolders({ ...state, killed: true }, 'SIGKILL');
  }
  if (!isAnswer(event, state.actionId)) return { state, effects: [] };
  const blocked = ctx.blocked ? { ...ctx.blocked, sinceSeconds: (event.at - ctx.blocked.startedAt) / 1000 } : null;
  const settled: SwapState = { ...state, ctx: { ...ctx, blocked } };
  if (event.kind === 'action-failed')
    return restoreBeforeUnload(settled, event.at, `unbind failed after blocking: ${event.error}`);
  if (ctx.plan.blockedUnbind.policy === 'fail') {
    const unbound = device ? { ...ctx.unbound, [device.id]: event.at } : ctx.unbound;
    const why = `unbind of ${blocked?.device} blocked for ${blocked?.sinceSeconds.toFixed(1)} s by PIDs ${pidList(blocked?.holders ?? [])} (policy fail)`;
    return restoreBeforeUnload({ ...settled, ctx: { ...settled.ctx, unbound } }, event.at, why);
  }
  return afterUnbind(settled, state.index, event.at);
}

/**
 * A process that opened the device after the census named the holders (before the write reached
 * the driver, or while a driver that keeps its node waits): it holds the unbind up like the
 * others, so it is named, and under policy `signal` it gets SIGTERM now and its own grace period
 * if the first one has run out; left alone, it would block the unbind for ever.
 */
function onJoined(state: SwapState & { phase: 'unbind-blocked' }, joined: readonly Holder[]): Transition {
  const detail = `PIDs ${pidList(joined)} opened ${state.ctx.blocked?.device ?? 'the device'} while its unbind was blocked`;
  const noted: SwapEffect = { kind: 'progress', phase: 'unbind-blocked', status: 'blocked', detail };
  if (state.ctx.plan.blockedUnbind.policy !== 'signal') return { state, effects: [noted] };
  const signalled = signalHolders(state, 'SIGTERM', new Set(joined.map((h) => h.pid)));
  if (!state.killed) return { state: signalled.state, effects: [noted, ...signalled.effects] };
  const graced = { ...(signalled.state as SwapState & { phase: 'unbind-blocked' }), killed: false };
  const timer: SwapEffect = { kind: 'timer', name: 'grace', ms: state.ctx.plan.blockedUnbind.graceMs };
  return { state: graced, effects: [noted, ...signalled.effects, timer] };
}

/** Blocked-unbind policy `signal`: SIGTERM the holders now, SIGKILL whoever is left after the grace. */
function signalHolders(
  state: SwapState & { phase: 'unbind-blocked' },
  signal: 'SIGTERM' | 'SIGKILL',
  only: ReadonlySet<number> | null = null,
): Transition {
  let ctx = state.ctx;
  const effects: SwapEffect[] = [];
  const holding = (ctx.blocked?.holders ?? []).filter(
    (h) => ctx.closedAt[h.pid] === undefined && (only === null || only.has(h.pid)),
  );
  for (const holder of holding) {
    effects.push({
      kind: 'action',
      id: ctx.nextActionId,
      action: { kind: 'signal', pid: holder.pid, signal },
      deadlineMs: ctx.plan.actionDeadlineMs,
    });
    ctx = { ...ctx, nextActionId: ctx.nextActionId + 1 };
  }
  effects.push({
    kind: 'progress',
    phase: 'unbind-blocked',
    status: 'blocked',
    detail: `${signal} sent to PIDs ${pidList(holding)}`,
  });
  return { state: { ...state, ctx }, effects };
}

function onVerify(state: SwapState & { phase: 'verify' }, event: SwapEvent): Transition {
  if (event.kind === 'query-failed') {
    return state.expect === 'target'
      ? restoreAfterUnload(state, event.at, `verify failed: ${event.error}`)
      : finish(state, event.at, 'failed', `restore: cannot read the host: ${event.error}`);
  }
  if (event.kind !== 'state-read') return { state, effects: [] };
  const { ctx } = state;
  const unboundDevice = event.devices.findIndex(
    (d, i) =>
      !d || d.driver !== ctx.devices[i]?.driver || (d.nodes.length === 0 && (ctx.devices[i]?.nodes.length ?? 0) > 0),
  );
  const mismatch = moduleMismatch(state, event.modules) ?? missingDependency(state, event.dependencies ?? []);
  const problem =
    unboundDevice >= 0
      ? `device ${ctx.devices[unboundDevice]?.id} is not bound to ${ctx.plan.devices.driver} with its nodes`
      : mismatch;
  if (problem !== null) {
    return state.expect === 'target'
      ? restoreAfterUnload(state, event.at, `verify: ${problem}`)
      : finish(state, event.at, 'failed', `restore: ${problem}`);
  }
  const outcome: SwapOutcome = state.expect === 'target' ? 'succeeded' : 'failed-restored';
  const detail =
    state.expect === 'target'
      ? `srcversion ${event.modules.map((m) => m?.srcversion).join(',')}`
      : 'previous driver bound';
  return go(state, { phase: 'recovery-watch', outcome }, event.at, true, detail);
}

function moduleMismatch(
  state: SwapState & { phase: 'verify' },
  modules: readonly (LoadedModule | null)[],
): string | null {
  if (state.expect === 'previous-driver') return null;
  const { ctx } = state;
  for (const [i, name] of ctx.plan.modules.entries()) {
    const loaded = modules[i];
    const want = state.expect === 'target' ? ctx.targets.find((t) => t.module === name) : ctx.previous[i];
    if (!loaded) return `module ${name} is not loaded`;
    if (want?.srcversion && loaded.srcversion !== want.srcversion) {
      return `module ${name} has srcversion ${loaded.srcversion}, expected ${want.srcversion}`;
    }
    if (!want?.srcversion && want?.version && loaded.version !== want.version) {
      return `module ${name} has version ${loaded.version}, expected ${want.version}`;
    }
  }
  return null;
}

/** After a restore, every dependency `modprobe -r` removed must be back too, as it was. */
function missingDependency(
  state: SwapState & { phase: 'verify' },
  loaded: readonly (LoadedModule | null)[],
): string | null {
  if (state.expect !== 'previous-modules') return null;
  const deps = (state.ctx.rollback ?? []).filter((r) => r.why === 'dependency');
  for (const { module: want } of deps) {
    const got = loaded.find((m) => m?.name === want.name);
    if (!got) return `module ${want.name} was not loaded back`;
    if (want.srcversion && got.srcversion !== want.srcversion) {
      return `module ${want.name} has srcversion ${got.srcversion}, expected ${want.srcversion}`;
    }
  }
  return null;
}

function restoreBeforeUnload(state: SwapState, at: number, error: string): Transition {
  const errored: SwapState = { ...state, ctx: { ...state.ctx, error: state.ctx.error ?? error } };
  return nextRestoreRebind(errored, 0, at, false, error);
}

/** Rebind the old driver on every device that was unbound, one at a time, then verify. */
function nextRestoreRebind(state: SwapState, from: number, at: number, ok = true, detail?: string): Transition {
  const { ctx } = state;
  const index = ctx.devices.findIndex((d, i) => i >= from && ctx.unbound[d.id] !== undefined);
  if (index < 0) {
    const anyUnbound = Object.keys(ctx.unbound).length > 0;
    return anyUnbound
      ? go(state, { phase: 'verify', expect: 'previous-driver' }, at, ok, detail)
      : finish(state, at, 'failed-restored', null, detail);
  }
  return goAction(state, (id) => ({ phase: 'restore-rebind', index, actionId: id }), at, ok, detail);
}

/**
 * What the forward swap loads, in order: first the dependencies `modprobe -r` took along, from
 * the very files and parameters they had (the runbook's stack is what changes; what it depends
 * on stays as it was), then the runbook's targets.
 */
function forwardLoads(ctx: SwapContext): LoadSpec[] {
  const deps = (ctx.rollback ?? []).filter((r) => r.why === 'dependency').map((r) => r.module);
  return [...reloadOrder(deps).map(reloadSpecOf), ...ctx.plan.loads];
}

/**
 * What a restore loads back, in load order: everything `modprobe -r` removed (journaled in
 * preflight), so the host ends with the very modules it had; the stack alone for a swap
 * journaled before the removal set was recorded.
 */
function reloadList(ctx: SwapContext): LoadedModule[] {
  const removed = ctx.rollback ?? [];
  return removed.length > 0 ? reloadOrder(removed.map((r) => r.module)) : [...ctx.previous].reverse();
}

function restoreAfterUnload(state: SwapState, at: number, error: string): Transition {
  const errored: SwapState = { ...state, ctx: { ...state.ctx, error: state.ctx.error ?? error } };
  return goAction(
    errored,
    (id) => ({ phase: 'restore-reload', stage: 'unload', index: 0, actionId: id }),
    at,
    false,
    error,
  );
}

function onRestoreReload(state: SwapState & { phase: 'restore-reload' }, event: SwapEvent): Transition {
  if (!isAnswer(event, state.actionId)) return { state, effects: [] };
  if (event.kind === 'action-failed') {
    return finish(state, event.at, 'failed', `restore: ${state.stage} failed: ${event.error}`);
  }
  const { ctx } = state;
  const step = (stage: 'load' | 'bind', index: number): Transition => {
    const actionId = ctx.nextActionId;
    const moved: SwapState = { ...state, stage, index, actionId, ctx: { ...ctx, nextActionId: actionId + 1 } };
    return { state: moved, effects: enter(moved) };
  };
  const reloads = reloadList(ctx);
  if (state.stage === 'unload') return reloads.length > 0 ? step('load', 0) : step('bind', 0);
  if (state.stage === 'load' && state.index + 1 < reloads.length) return step('load', state.index + 1);
  if (state.stage === 'load') return step('bind', 0);
  if (state.index + 1 < ctx.devices.length) return step('bind', state.index + 1);
  return go(state, { phase: 'verify', expect: 'previous-modules' }, event.at, true);
}

/** The effects performed on entering a state (and again when resuming it from the journal). */
function enter(state: SwapState): SwapEffect[] {
  const { ctx } = state;
  const { plan } = ctx;
  const act = (actionId: number, action: KernelAction, deadlineMs = plan.actionDeadlineMs): SwapEffect[] => [
    { kind: 'action', id: actionId, action, deadlineMs },
  ];
  switch (state.phase) {
    case 'preflight':
      return [{ kind: 'inspect', devices: plan.devices, modules: plan.modules, loads: plan.loads }];
    case 'pre-hooks':
    case 'post-hooks': {
      const stage = state.phase === 'pre-hooks' ? 'pre' : 'post';
      const hook = plan.hooks[stage][state.index];
      return hook ? [{ kind: 'run-hook', stage, index: state.index, hook }] : [];
    }
    case 'unbind':
      return act(state.actionId, { kind: 'unbind', device: deviceRef(ctx, state.index) }, plan.unbindDeadlineMs);
    case 'unbind-blocked': {
      const effects: SwapEffect[] = [
        {
          kind: 'watch-blocking',
          actionId: state.actionId,
          rdevs: rdevsOf(ctx.devices[state.index]?.nodes ?? []),
          pollMs: plan.pollMs,
        },
      ];
      // SIGTERM is sent on the way in (onStuck); the grace timer is re-armed on resume too.
      if (plan.blockedUnbind.policy === 'signal' && !state.killed) {
        effects.push({ kind: 'timer', name: 'grace', ms: plan.blockedUnbind.graceMs });
      }
      return effects;
    }
    case 'zombie-census':
      return [
        { kind: 'start-recovery-watch', ...recoveryWatchSpec(ctx) },
        { kind: 'census', purpose: 'zombies', rdevs: rdevsOf(ctx.devices.flatMap((d) => d.nodes)) },
      ];
    case 'zombie-wait':
      return [
        {
          kind: 'await-modules-free',
          modules: plan.modules,
          deadlineMs: plan.zombieCloseDeadlineMs,
          pollMs: plan.pollMs,
          zombieNodes: ctx.devices.flatMap((d) => d.nodes.map((n) => ({ rdev: n.rdev, ino: n.ino }))),
          zombiePids: ctx.holdersBefore.map((h) => h.pid),
        },
      ];
    case 'unload':
      return act(state.actionId, { kind: 'unload', modules: plan.modules });
    case 'load': {
      const spec = forwardLoads(ctx)[state.index];
      return spec ? act(state.actionId, { kind: 'load', spec }) : [];
    }
    case 'rebind':
    case 'restore-rebind':
      return act(state.actionId, { kind: 'bind', device: deviceRef(ctx, state.index), driver: plan.devices.driver });
    case 'restore-reload': {
      if (state.stage === 'unload') return act(state.actionId, { kind: 'unload', modules: plan.modules });
      if (state.stage === 'bind') {
        return act(state.actionId, { kind: 'bind', device: deviceRef(ctx, state.index), driver: plan.devices.driver });
      }
      // Reload what the unload removed, dependencies first, from the very files and parameters it had.
      const mod = reloadList(ctx)[state.index];
      if (!mod) return [];
      const spec = reloadSpecOf(mod);
      return act(state.actionId, { kind: 'load', spec });
    }
    case 'verify': {
      const deps =
        state.expect === 'previous-modules' ? (ctx.rollback ?? []).filter((r) => r.why === 'dependency') : [];
      return [
        {
          kind: 'read-state',
          modules: plan.modules,
          devices: ctx.devices.map((d) => ({ bus: d.bus, id: d.id })),
          ...(deps.length > 0 ? { dependencies: deps.map((d) => d.module.name) } : {}),
        },
      ];
    }
    case 'recovery-watch':
      return [{ kind: 'watch-recovery', ...recoveryWatchSpec(ctx), deadlineMs: plan.recoveryWatchMs }];
    case 'done':
      return [{ kind: 'finished', report: reportOf(state) }];
  }
}

function recoveryWatchSpec(ctx: SwapContext): RecoveryWatchSpec {
  const tracked: TrackedHolder[] = ctx.holdersBefore.map((h) => ({
    pid: h.pid,
    comm: h.comm,
    unit: h.unit,
    t0Ms: ctx.closedAt[h.pid] ?? unboundAtFor(ctx, h) ?? ctx.startedAt,
    predictedErrno: predictedErrnoFor(ctx, h),
  }));
  const units = [...new Set(ctx.holdersBefore.flatMap((h) => (h.unit ? [h.unit] : [])))];
  const oldNodes = ctx.devices.flatMap((d) => d.nodes);
  return {
    tracked,
    scope: { pids: tracked.map((t) => t.pid), units },
    rdevs: rdevsOf(oldNodes),
    oldNodes: oldNodes.map((n) => ({ rdev: n.rdev, ino: n.ino })),
    pollMs: ctx.plan.pollMs,
  };
}

/**
 * Phases in which the devices are (or were) unbound and the swap has not reached its recovery
 * watch: the holders are watched in the background from the moment the last unbind returned.
 */
const WATCHING_PHASES: ReadonlySet<SwapPhaseState['phase']> = new Set([
  'zombie-census',
  'zombie-wait',
  'unload',
  'load',
  'rebind',
  'verify',
  'restore-rebind',
  'restore-reload',
]);

/**
 * The errno calls on this holder's zombie FDs fail with, as preflight predicted it for its device
 * (the agent cannot see it); 'unknown' when nothing predicts it.
 */
function predictedErrnoFor(ctx: SwapContext, holder: Holder): string {
  const device = ctx.devices.find((d) => holdsAny(holder, identitiesOf(d.nodes)));
  const subject = device ? `${device.bus}/${device.id}` : null;
  const errno = ctx.predictions?.find((p) => p.kind === 'errno' && p.subject === subject)?.expected;
  return errno ?? 'unknown';
}

/** When the unbind of the device this holder had open returned. */
function unboundAtFor(ctx: SwapContext, holder: Holder): number | undefined {
  for (const device of ctx.devices) {
    const ids = identitiesOf(device.nodes);
    if (holdsAny(holder, ids)) {
      return ctx.unbound[device.id];
    }
  }
  return undefined;
}

/** Move to another phase: close the current step, open the next one, and enter it. */
function go(
  state: SwapState,
  to: SwapPhaseState,
  at: number,
  ok: boolean,
  detail?: string,
  status: 'completed' | 'failed' | 'blocked' = ok ? 'completed' : 'failed',
): Transition {
  const steps = closeStep(state.ctx.steps, at, ok, detail);
  const opened =
    to.phase === 'done' ? steps : [...steps, { phase: to.phase as SwapPhase, startedAt: at, endedAt: null, ok: null }];
  const moved = { ...to, ctx: { ...state.ctx, steps: opened } } as SwapState;
  const effects: SwapEffect[] = [
    { kind: 'progress', phase: state.phase as SwapPhase, status, ...(detail ? { detail } : {}) },
  ];
  if (to.phase !== 'done') effects.push({ kind: 'progress', phase: to.phase as SwapPhase, status: 'started' });
  return { state: moved, effects: [...effects, ...enter(moved)] };
}

/** `go` to a phase that performs a kernel action, allocating the action's id. */
function goAction(
  state: SwapState,
  to: (actionId: number) => SwapPhaseState,
  at: number,
  ok: boolean,
  detail?: string,
): Transition {
  const id = state.ctx.nextActionId;
  return go({ ...state, ctx: { ...state.ctx, nextActionId: id + 1 } }, to(id), at, ok, detail);
}

function finish(state: SwapState, at: number, outcome: SwapOutcome, error: string | null, detail?: string): Transition {
  const ctx = { ...state.ctx, error: state.ctx.error ?? error };
  const ok = outcome === 'succeeded' || outcome === 'skipped';
  return go(
    { ...state, ctx },
    { phase: 'done', outcome },
    at,
    ok || state.phase === 'recovery-watch',
    detail ?? error ?? undefined,
  );
}

function closeStep(steps: readonly StepRecord[], at: number, ok: boolean, detail?: string): StepRecord[] {
  const last = steps[steps.length - 1];
  if (!last || last.endedAt !== null) return [...steps];
  return [...steps.slice(0, -1), { ...last, endedAt: at, ok, ...(detail ? { detail } : {}) }];
}

export function reportOf(state: SwapState & { phase: 'done' }): SwapReport {
  const { ctx } = state;
  const target = ctx.targets.find((t) => t.module === ctx.plan.modules[0]) ?? ctx.targets[0];
  const before = ctx.previous[0];
  const endedAt = ctx.steps.reduce((t, s) => Math.max(t, s.endedAt ?? s.startedAt), ctx.startedAt);
  return {
    swapId: ctx.swapId,
    hostId: ctx.hostId,
    outcome: state.outcome,
    modules: ctx.plan.modules,
    fromVersion: before?.version ?? null,
    toVersion: target?.version ?? null,
    fromSrcversion: before?.srcversion ?? null,
    toSrcversion: target?.srcversion ?? null,
    devices: ctx.devices.map((d) => `${d.bus}/${d.id}`),
    steps: ctx.steps,
    holdersBefore: ctx.holdersBefore.map(summarizeHolder),
    zombieFds: ctx.zombieFds,
    recoveries: ctx.recoveries,
    blockedUnbind: ctx.blocked
      ? { device: ctx.blocked.device, sinceSeconds: ctx.blocked.sinceSeconds, holders: ctx.blocked.holders }
      : null,
    error: ctx.error,
    startedAt: ctx.startedAt,
    endedAt,
    ...(ctx.predictions ? { predictions: checkPredictions(ctx.predictions, observationsOf(ctx)) } : {}),
    ...(ctx.pins ? { pins: ctx.pins } : {}),
    ...(ctx.rollback ? { rollback: ctx.rollback.map(rollbackModuleOf) } : {}),
  };
}

/** What the swap showed, for checking preflight's predictions. */
function observationsOf(ctx: SwapContext): SwapObservations {
  const census = ctx.steps.some((s) => s.phase === 'zombie-census' && s.endedAt !== null && s.ok === true);
  return {
    unbinds: ctx.devices.map((d) => ({
      device: `${d.bus}/${d.id}`,
      blocked: ctx.blocked?.device === d.id,
      returned: ctx.unbound[d.id] !== undefined,
      heldBefore: ctx.holdersBefore.filter((h) => holdsAny(h, identitiesOf(d.nodes))).length,
      zombiesAfter: ctx.zombiesByDevice?.[d.id] ?? null,
    })),
    zombieFds: census ? ctx.zombieFds : null,
    unloadRefcnt: ctx.unloadWait?.sawRefcnt ?? null,
    zombiesWhenFree: ctx.unloadWait?.zombiesOpen ?? null,
  };
}

function isAnswer(
  event: SwapEvent,
  actionId: number,
): event is Extract<SwapEvent, { kind: 'action-done' | 'action-failed' }> {
  return (event.kind === 'action-done' || event.kind === 'action-failed') && event.id === actionId;
}

function actionKindOf(state: SwapState, id: number): KernelAction['kind'] | null {
  const current = enter(state).find(
    (e): e is Extract<SwapEffect, { kind: 'action' }> => e.kind === 'action' && e.id === id,
  );
  return current ? current.action.kind : null;
}

function deviceRef(ctx: SwapContext, index: number): { bus: string; id: string } {
  const d = ctx.devices[index];
  return { bus: d?.bus ?? ctx.plan.devices.bus, id: d?.id ?? '' };
}

function oldIdentities(ctx: SwapContext): Set<FileIdentity> {
  return identitiesOf(ctx.devices.flatMap((d) => d.nodes));
}

const rdevsOf = (nodes: readonly DeviceNode[]): string[] => [...new Set(nodes.map((n) => n.rdev))];

function zombieHolderPids(ctx: SwapContext): string {
  return pidList(ctx.holdersBefore.filter((h) => ctx.closedAt[h.pid] === undefined));
}

const pidList = (holders: readonly { pid: number }[]): string => holders.map((h) => h.pid).join(', ') || 'none';

function recoveryDetail(report: SwapReport['recoveries']): string {
  const recovered = report.filter((r) => r.status === 'recovered' || r.status === 'restarted').length;
  return `${recovered}/${report.length} holder(s) recovered`;
}
