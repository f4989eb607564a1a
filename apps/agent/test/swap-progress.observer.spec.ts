import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecoveryObservation, SwapPhase } from '@hotswap/contracts';
import type { Metric } from 'prom-client';
import { AgentMetrics } from '../src/metrics/agent.metrics.js';
import { swapProgressObserver } from '../src/swap/swap-progress.observer.js';
import type { SwapObserver } from '../src/swap/swap.runner.js';

/**
 * The observer's effect on the agent's metrics: a sequence of steps, censuses and recoveries
 * as the runner reports them, then the registry read back.
 */
const HOST = 'host-a';
const MODULE = 'hs_misc';
const T0 = 1_700_000_000_000;

type Status = 'started' | 'completed' | 'failed' | 'blocked';

function setup(): {
  metrics: AgentMetrics;
  observer: Required<SwapObserver>;
  clock: { t: number };
  published: string[];
  run: (...steps: [SwapPhase, Status][]) => void;
} {
  const metrics = new AgentMetrics('test');
  const clock = { t: T0 };
  const published: string[] = [];
  const observer = swapProgressObserver(
    HOST,
    MODULE,
    metrics,
    (phase, status) => published.push(`${phase}:${status}`),
    () => clock.t,
  ) as Required<SwapObserver>;
  const run = (...steps: [SwapPhase, Status][]): void => {
    for (const [phase, status] of steps) {
      observer.step(phase, status);
      clock.t += 1000;
    }
  };
  return { metrics, observer, clock, published, run };
}

async function valueOf(metric: Metric, labels: Record<string, string>, name?: string): Promise<number | undefined> {
  const { values } = await metric.get();
  const found = values.find(
    (v) =>
      (name === undefined || (v as { metricName?: string }).metricName === name) &&
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  );
  return found?.value;
}

const hm = { host: HOST, module: MODULE };
const recovery = (status: RecoveryObservation['status'], seconds: number | null): RecoveryObservation => ({
  pid: 100,
  comm: 'app',
  unit: 'app.service',
  status,
  seconds,
  predictedErrno: 'ENODEV',
});

describe('swap progress observer: metrics', () => {
  it('creates the swap series at 0 before anything happens, without resetting them later', async () => {
    const { metrics } = setup();
    assert.equal(await valueOf(metrics.deviceWithoutDriver, hm), 0);
    assert.equal(await valueOf(metrics.kernelActionStuck, { host: HOST }), 0);
    assert.equal(await valueOf(metrics.unbindBlocked, { host: HOST }), 0);
    assert.equal(await valueOf(metrics.appRestarted, hm), 0);
    assert.equal(await valueOf(metrics.swaps, { ...hm, outcome: 'failed' }), 0);
    assert.equal(await valueOf(metrics.notRecovered, { ...hm, status: 'not-recovered' }), 0);
    assert.equal(
      await valueOf(
        metrics.recoverySeconds,
        { ...hm, status: 'recovered' },
        'hotswap_agent_app_recovery_seconds_count',
      ),
      0,
    );

    metrics.deviceWithoutDriver.set(hm, 1);
    metrics.swaps.inc({ ...hm, outcome: 'failed' });
    swapProgressObserver(HOST, MODULE, metrics, () => undefined);
    assert.equal(await valueOf(metrics.deviceWithoutDriver, hm), 1, 'a second swap does not hide the first');
    assert.equal(await valueOf(metrics.swaps, { ...hm, outcome: 'failed' }), 1);
  });

  it('a revoke-scheme swap: device without driver from unbind to rebind, zombies dated from the unbind', async () => {
    const { metrics, observer, clock, published, run } = setup();
    run(['preflight', 'started'], ['preflight', 'completed'], ['unbind', 'started']);
    const unbindReturned = clock.t;
    run(['unbind', 'completed']);
    assert.equal(await valueOf(metrics.deviceWithoutDriver, hm), 1);

    run(['zombie-census', 'started']);
    observer.zombies(3);
    assert.equal(await valueOf(metrics.zombieFds, hm), 3);
    assert.equal(await valueOf(metrics.zombieFdsOldest, hm), unbindReturned / 1000);

    run(['zombie-census', 'completed'], ['zombie-wait', 'started'], ['zombie-wait', 'completed']);
    run(['unload', 'started'], ['unload', 'completed'], ['load', 'started'], ['load', 'completed']);
    run(['rebind', 'started']);
    assert.equal(await valueOf(metrics.deviceWithoutDriver, hm), 1, 'still unbound while the rebind runs');
    run(['rebind', 'completed']);
    assert.equal(await valueOf(metrics.deviceWithoutDriver, hm), 0);

    run(['verify', 'started'], ['verify', 'completed'], ['recovery-watch', 'started']);
    observer.recovery(recovery('recovered', 0.4));
    observer.recovery({ ...recovery('restarted', 1.2), pid: 101, newPid: 202 });
    assert.notEqual(await valueOf(metrics.zombieFdsOldest, hm), 0, 'kept until the watch ends');
    run(['recovery-watch', 'completed']);

    assert.equal(await valueOf(metrics.zombieFdsOldest, hm), 0, 'every holder is back');
    assert.equal(await valueOf(metrics.zombieFds, hm), 3, 'the count stays that of the last census');
    assert.equal(await valueOf(metrics.appRestarted, hm), 1);
    const count = 'hotswap_agent_app_recovery_seconds_count';
    assert.equal(await valueOf(metrics.recoverySeconds, { ...hm, status: 'recovered' }, count), 1);
    assert.equal(await valueOf(metrics.recoverySeconds, { ...hm, status: 'restarted' }, count), 1);
    assert.equal(await valueOf(metrics.kernelActionStuck, { host: HOST }), 0);
    const unload = await valueOf(
      metrics.phaseSeconds,
      { host: HOST, phase: 'unload', result: 'completed' },
      'hotswap_agent_swap_phase_duration_seconds_sum',
    );
    assert.equal(unload, 1);
    assert.equal(published.length, 18, 'every step is published');
    assert.deepEqual(published.slice(0, 2), ['preflight:started', 'preflight:completed']);
  });

  it('a blocked unbind (policy fail): stuck and unbound until the old driver is rebound', async () => {
    const { metrics, run } = setup();
    run(['preflight', 'started'], ['preflight', 'completed'], ['unbind', 'started'], ['unbind', 'blocked']);
    run(['unbind-blocked', 'started'], ['unbind-blocked', 'blocked']);
    assert.equal(await valueOf(metrics.kernelActionStuck, { host: HOST }), 1);
    assert.equal(await valueOf(metrics.unbindBlocked, { host: HOST }), 1);
    assert.equal(await valueOf(metrics.deviceWithoutDriver, hm), 1);

    run(['unbind-blocked', 'failed'], ['restore-rebind', 'started']);
    assert.equal(await valueOf(metrics.kernelActionStuck, { host: HOST }), 0, 'the unbind returned');
    assert.equal(await valueOf(metrics.unbindBlocked, { host: HOST }), 0);
    assert.equal(await valueOf(metrics.deviceWithoutDriver, hm), 1, 'unbound until the restore binds it');

    run(['restore-rebind', 'completed']);
    assert.equal(await valueOf(metrics.deviceWithoutDriver, hm), 0);
    const blockedFor = await valueOf(
      metrics.phaseSeconds,
      { host: HOST, phase: 'unbind-blocked', result: 'failed' },
      'hotswap_agent_swap_phase_duration_seconds_sum',
    );
    assert.equal(blockedFor, 2);
  });

  it('another stuck action: stuck until its phase ends, the unbind gauge untouched', async () => {
    const { metrics, run } = setup();
    run(['unbind', 'started'], ['unbind', 'completed'], ['unload', 'started'], ['unload', 'blocked']);
    assert.equal(await valueOf(metrics.kernelActionStuck, { host: HOST }), 1);
    assert.equal(await valueOf(metrics.unbindBlocked, { host: HOST }), 0);
    run(['unload', 'completed']);
    assert.equal(await valueOf(metrics.kernelActionStuck, { host: HOST }), 0);
  });

  it('a holder that does not come back keeps its zombie dated; a failed restore keeps the device unbound', async () => {
    const { metrics, observer, run } = setup();
    run(['unbind', 'started'], ['unbind', 'completed'], ['zombie-census', 'started']);
    observer.zombies(2);
    const oldest = await valueOf(metrics.zombieFdsOldest, hm);
    run(['zombie-census', 'completed'], ['zombie-wait', 'started'], ['zombie-wait', 'failed']);
    run(['restore-rebind', 'started'], ['restore-rebind', 'failed']);
    assert.equal(await valueOf(metrics.deviceWithoutDriver, hm), 1, 'the host is left without its driver');

    const other = setup();
    other.run(['unbind', 'started'], ['unbind', 'completed'], ['zombie-census', 'started']);
    other.observer.zombies(2);
    other.run(['rebind', 'started'], ['rebind', 'completed'], ['recovery-watch', 'started']);
    other.observer.recovery(recovery('recovered', 0.2));
    other.observer.recovery({ ...recovery('not-recovered', null), pid: 101 });
    other.run(['recovery-watch', 'completed']);
    assert.ok(oldest !== undefined && oldest > 0);
    assert.notEqual(await valueOf(other.metrics.zombieFdsOldest, hm), 0);
    assert.equal(await valueOf(other.metrics.notRecovered, { ...hm, status: 'not-recovered' }), 1);
  });

  it('a census that finds no zombie clears the oldest-zombie time', async () => {
    const { metrics, observer, run } = setup();
    run(['unbind', 'started'], ['unbind', 'completed']);
    observer.zombies(1);
    observer.zombies(0);
    assert.equal(await valueOf(metrics.zombieFdsOldest, hm), 0);
  });
});
