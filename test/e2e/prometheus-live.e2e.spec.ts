import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, SimFleet, ensureSystemDeps, type SimHostSpec } from '@hotswap/tools';
import { parse, stringify } from 'yaml';
import { getJson, postJson, waitFor } from '../support/http.js';
import { PrometheusServer, type PromSample } from '../support/prometheus-server.js';

/**
 * A real Prometheus (Debian's package) against a simulated rollout, end to end. Prometheus runs
 * on loopback with a generated config (scrape and evaluation every second) that scrapes the
 * controller and five agents and loads deploy/prometheus/hotswap.rules.yaml as it is, plus a
 * test-local copy of ZombieFdsNotClosing whose only change is its age threshold (15 min in the
 * real rule; 10 s here). The controller's PROMETHEUS_URL points at it.
 *
 *  - prom-a, prom-b: rollout 1, with a Prometheus gate that passes after each wave.
 *  - prom-z: one application ignores ENODEV and keeps its zombie FD: the swap waits for it,
 *    restores the old driver, and the copy of ZombieFdsNotClosing goes pending on prom-z, never
 *    on another host; the real rule's expression selects prom-z once 15 minutes have passed.
 *  - prom-c, prom-d: rollout 3, with a gate on that alert: it holds the rollout after the canary.
 *  - Applications on a, b, c reopen the device 3 s (+-100 ms) after the error: every recovery
 *    falls in the histogram bucket (2 s, 5 s], so the p99 query gives 2 + 3 * 0.99 = 4.97.
 *
 * KEEP_FLEET=1 keeps the fleet's and Prometheus's temp dirs (logs, config, TSDB).
 */

const RULES = join(REPO_ROOT, 'deploy/prometheus/hotswap.rules.yaml');
/** The test-local copy of ZombieFdsNotClosing fires on zombie FDs older than this. */
const ZOMBIE_AGE_SECONDS = 10;
const COPY_LABEL = { rules: 'test-copy' };
/** The agents' recovery histogram buckets around the scenario's recovery time (agent.metrics.ts). */
const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

const HEADER = `
host: {{name}}
seed: {{seed}}
timing: { unbindMs: 5, unloadMs: 10, loadMs: 20, probeMs: 10 }
modules:
  - { name: hs_misc, version: '1.0', srcversion: 5A1C0E6F3B2D49A87E10C42, file: /lib/modules/sim/hs_misc-1.0.ko }
moduleFiles:
  - { module: hs_misc, file: /lib/modules/sim/hs_misc-2.0.ko, version: '2.0', srcversion: 9F3E21B7C04D5A6E8B1F2C3, default: true }
drivers:
  - { name: hs_misc, module: hs_misc, bus: platform }
devices:
  - bus: platform
    id: hs_misc.0
    driver: hs_misc
    node: { path: /dev/hsmisc0, major: 240, minor: 0 }
    revoke: revoke
    fopsOwner: driver
`;
/** Two applications that close at once and reopen 3 s (+-100 ms) after the error. */
const RECOVERING = `${HEADER}processes:
  - comm: app-one
    unit: app-one.service
    opens: [/dev/hsmisc0]
    onError: { action: reopen, closeAfterMs: 0, reopenDelayMs: 3000, jitterMs: 200, retryMs: 10 }
  - comm: app-two
    unit: app-two.service
    opens: [/dev/hsmisc0]
    onError: { action: reopen, closeAfterMs: 0, reopenDelayMs: 3000, jitterMs: 200, retryMs: 10 }
`;
/** One application that ignores ENODEV: its zombie FD stays open, and pins the driver-owned module. */
const STUCK = `${HEADER}processes:
  - comm: app-stuck
    unit: app-stuck.service
    opens: [/dev/hsmisc0]
    onError: { action: ignore }
`;

const ZOMBIE_HOST = 'prom-z';
const HOSTS: SimHostSpec[] = ['prom-a', 'prom-b', 'prom-c', 'prom-d', ZOMBIE_HOST].map((name, i) => ({
  name,
  template: name === ZOMBIE_HOST ? STUCK : RECOVERING,
  vars: { seed: String(i + 11) },
  labels: { fleet: 'prom' },
}));

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RulesFile {
  groups: { name: string; rules: AlertRule[] }[];
}
const realRules = (): RulesFile => parse(readFileSync(RULES, 'utf8')) as RulesFile;
function realRule(pick: (rule: AlertRule) => boolean): AlertRule {
  const rule = realRules()
    .groups.flatMap((group) => group.rules)
    .find(pick);
  assert.ok(rule, 'rule not found in deploy/prometheus/hotswap.rules.yaml');
  return rule;
}

/** ZombieFdsNotClosing as deployed, but for zombies older than ZOMBIE_AGE_SECONDS; labelled `rules: test-copy`. */
function zombieRuleCopy(): string {
  const rule = realRule((r) => r.alert === 'ZombieFdsNotClosing');
  const expr = rule.expr.replace(/>\s*900\b/, `> ${ZOMBIE_AGE_SECONDS}`);
  assert.notEqual(expr, rule.expr, `ZombieFdsNotClosing no longer reads "> 900": update this test's copy`);
  const copy = { ...rule, expr, labels: { ...rule.labels, ...COPY_LABEL } };
  return stringify({ groups: [{ name: 'hotswap.test-copy', rules: [copy] }] });
}

/** Prometheus's histogram_quantile over cumulative bucket counts (upper bound → count, +Inf last). */
function histogramQuantile(q: number, observations: readonly number[]): number {
  const buckets = [...BUCKETS, Infinity].map((le) => ({ le, count: observations.filter((s) => s <= le).length }));
  const total = buckets.at(-1)!.count;
  const rank = q * total;
  const b = buckets.findIndex((bucket) => bucket.count >= rank);
  if (b === buckets.length - 1) return buckets[b - 1]!.le;
  const lower = b === 0 ? 0 : buckets[b - 1]!.le;
  const below = b === 0 ? 0 : buckets[b - 1]!.count;
  return lower + (buckets[b]!.le - lower) * ((rank - below) / (buckets[b]!.count - below));
}

function runbook(name: string, hosts: string[], spec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'hotswap/v1',
    kind: 'Runbook',
    metadata: { name },
    spec: {
      modules: [{ name: 'hs_misc', target: { version: '2.0' } }],
      devices: { bus: 'platform', driver: 'hs_misc' },
      deadlines: { unbindSeconds: 5, zombieCloseSeconds: 5, actionSeconds: 5, recoveryWatchSeconds: 15 },
      recovery: { pollMilliseconds: 50 },
      hosts: { names: hosts },
      strategy: { canary: 1, maxUnavailable: 1 },
      ...spec,
    },
  };
}

interface HostView {
  hostId: string;
  state: string;
  recoveries: { status: string; seconds: number | null }[];
}
interface RolloutView {
  id: string;
  state: string;
  decision: { reason: string };
  hosts: HostView[];
}
/** Final states, and paused: nothing moves on from them without an operator. */
const SETTLED = new Set(['succeeded', 'failed', 'aborted', 'rolled-back', 'paused']);

interface GateEvent {
  type: 'prometheus-gate';
  wave: number;
  status: string;
  detail: string;
}

describe(
  'a real Prometheus scrapes a simulated rollout, evaluates the rules and gates rollouts',
  { timeout: 180_000 },
  () => {
    let prometheus: PrometheusServer;
    let fleet: SimFleet;
    let startedAt = 0;
    const timings: string[] = [];
    const recovered: number[] = [];

    const url = (path: string): string => `${fleet.controllerUrl}${path}`;
    const view = (id: string): Promise<RolloutView> => getJson<RolloutView>(url(`/v1/rollouts/${id}`));
    const until = (id: string, what: string, ok: (v: RolloutView) => boolean, timeoutMs = 60_000) =>
      waitFor(what, timeoutMs, async () => {
        const current = await view(id);
        return ok(current) ? current : undefined;
      });
    const gateEvents = async (id: string): Promise<GateEvent[]> =>
      (await getJson<{ events: { type: string }[] }>(url(`/v1/rollouts/${id}/events`))).events.filter(
        (e): e is GateEvent => e.type === 'prometheus-gate',
      );
    const stateOf = (v: RolloutView, hostId: string): string | undefined =>
      v.hosts.find((h) => h.hostId === hostId)?.state;
    async function create(body: object): Promise<string> {
      const created = await postJson(url('/v1/rollouts'), body);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return String(created.body['id']);
    }
    const hostsOf = (samples: readonly PromSample[]): string[] => samples.map((s) => s.metric['host'] ?? '?').sort();
    const lap = (what: string, since: number): void => {
      timings.push(`${what} ${((Date.now() - since) / 1000).toFixed(1)} s`);
    };

    before(async () => {
      // Fails (never skips) when Debian's prometheus package is missing and cannot be installed.
      ensureSystemDeps(['promtool']);
      startedAt = Date.now();
      prometheus = await PrometheusServer.start({
        ruleFiles: [RULES],
        generatedRules: { 'zombie-copy.rules.yaml': zombieRuleCopy() },
        scrapeIntervalSeconds: 1,
        evaluationIntervalSeconds: 1,
        // The real ZombieFdsNotClosing expression is also evaluated 15 minutes ahead: the last
        // scraped samples must still count then.
        lookbackDelta: '20m',
      });
      fleet = await SimFleet.start({
        hosts: HOSTS,
        controllerEnv: { PROMETHEUS_URL: prometheus.url, SWEEP_SECONDS: '2' },
        startConcurrency: 2,
      });
      await prometheus.scrape([
        { job: 'hotswap-controller', targets: [fleet.controllerUrl] },
        { job: 'hotswap-agent', targets: fleet.hosts.map((h) => h.agentUrl) },
      ]);
      lap('Prometheus and the fleet started in', startedAt);
    });

    after(async () => {
      const keep = process.env['KEEP_FLEET'] === '1';
      await fleet?.stop(keep);
      await prometheus?.stop(keep);
      if (keep) console.error(`kept ${fleet?.dir} and ${prometheus?.dir}`);
    });

    it('scrapes the controller and every agent, and loads the rules without errors', async (t) => {
      const since = Date.now();
      const up = await waitFor('every target to be up', 30_000, async () => {
        const samples = await prometheus.query('up');
        return samples.length === HOSTS.length + 1 && samples.every((s) => s.value === 1) ? samples : undefined;
      });
      assert.deepEqual(up.map((s) => s.metric['job']).sort(), [
        ...Array<string>(HOSTS.length).fill('hotswap-agent'),
        'hotswap-controller',
      ]);
      const agentHosts = await prometheus.query('hotswap_agent_build_info');
      assert.equal(agentHosts.length, HOSTS.length);
      const groups = await waitFor('every rule to be evaluated', 30_000, async () => {
        const current = await prometheus.ruleGroups();
        return current.every((g) => g.rules.every((r) => r.health === 'ok')) ? current : undefined;
      });
      const real = realRules();
      const shape = (gs: readonly { name: string; rules: readonly unknown[] }[]): string[] =>
        gs.map((g) => `${g.name}: ${g.rules.length} rules`).sort();
      assert.deepEqual(shape(groups), shape([...real.groups, { name: 'hotswap.test-copy', rules: [1] }]));
      lap('targets up and rules healthy after', since);
      t.diagnostic(timings.join('; '));
    });

    it('rollout 1: its Prometheus gate passes after each wave', async () => {
      const since = Date.now();
      const id = await create(
        runbook('prom-gate-pass', ['prom-a', 'prom-b'], {
          // No device left without its driver anywhere the agents report.
          prometheusGate: { query: 'max(hotswap_agent_device_without_driver)', condition: { op: '<', value: 1 } },
        }),
      );
      const done = await until(id, 'rollout 1 to finish', (v) => SETTLED.has(v.state));
      assert.equal(done.state, 'succeeded', done.decision.reason);
      const gates = await gateEvents(id);
      assert.deepEqual(
        gates.map((g) => [g.wave, g.status]),
        [
          [0, 'ok'],
          [1, 'ok'],
        ],
        JSON.stringify(gates),
      );
      assert.match(gates[0]!.detail, /^1 sample\(s\) satisfy max\(hotswap_agent_device_without_driver\) < 1$/);
      for (const host of done.hosts) {
        assert.equal(host.state, 'succeeded', host.hostId);
        recovered.push(...host.recoveries.map((r) => r.seconds ?? NaN));
      }
      lap('rollout 1 (2 hosts, gate passed twice)', since);
    });

    it('a zombie FD that never closes: ZombieFdsNotClosing goes pending on that host', async () => {
      const since = Date.now();
      const id = await create(
        runbook('prom-zombie', [ZOMBIE_HOST], {
          deadlines: { unbindSeconds: 5, zombieCloseSeconds: 2, actionSeconds: 5, recoveryWatchSeconds: 3 },
        }),
      );
      const ended = await until(id, 'the zombie host swap to end', (v) => {
        const state = stateOf(v, ZOMBIE_HOST);
        return state !== undefined && !['pending', 'queued', 'running'].includes(state);
      });
      assert.equal(stateOf(ended, ZOMBIE_HOST), 'failed-restored', JSON.stringify(ended.hosts[0]));
      const oldest = await prometheus.query(
        `hotswap_agent_zombie_fds_oldest_timestamp_seconds{host="${ZOMBIE_HOST}"} > 0`,
      );
      assert.equal(oldest.length, 1, 'the agent exports the zombie FD that stays open');

      const alert = await waitFor('ZombieFdsNotClosing (test copy) on the zombie host', 60_000, async () => {
        const alerts = (await prometheus.alerts()).filter((a) => a.labels['alertname'] === 'ZombieFdsNotClosing');
        return alerts.find((a) => a.labels['host'] === ZOMBIE_HOST) ? alerts : undefined;
      });
      assert.deepEqual(
        alert.map((a) => [a.labels['host'], a.labels['module'], a.labels['rules'], a.labels['severity']]),
        [[ZOMBIE_HOST, 'hs_misc', 'test-copy', 'warning']],
        'the copy is active on the zombie host and on no other; the real rule (15 min) is not active yet',
      );
      assert.ok(['pending', 'firing'].includes(alert[0]!.state), alert[0]!.state);
      lap(`ZombieFdsNotClosing ${alert[0]!.state} after the zombie rollout started:`, since);

      // The real rule's own expression, evaluated ahead of time on the data scraped so far: not
      // yet 15 minutes old in 10 minutes, and on the zombie host only once 15 minutes have passed.
      const realExpr = realRule((r) => r.alert === 'ZombieFdsNotClosing').expr;
      assert.deepEqual(hostsOf(await prometheus.query(realExpr, Date.now() + 10 * 60_000)), []);
      assert.deepEqual(hostsOf(await prometheus.query(realExpr, Date.now() + 15 * 60_000 + 10_000)), [ZOMBIE_HOST]);
    });

    it('rollout 3: a gate on that alert holds the rollout after its canary', async () => {
      const since = Date.now();
      const query = 'count(ALERTS{alertname="ZombieFdsNotClosing"}) or vector(0)';
      const id = await create(
        runbook('prom-gate-hold', ['prom-c', 'prom-d'], {
          prometheusGate: { query, condition: { op: '==', value: 0 } },
        }),
      );
      const held = await until(
        id,
        'the Prometheus gate to hold rollout 3',
        (v) => SETTLED.has(v.state) || /: Prometheus gate \w+:/.test(v.decision.reason),
      );
      assert.equal(held.state, 'waiting-gate', held.decision.reason);
      assert.match(
        held.decision.reason,
        /^wave 0: Prometheus gate false: 1 of 1 sample\(s\) fail .* == 0 \(e\.g\. 1\); holding/,
      );
      assert.equal(stateOf(held, 'prom-c'), 'succeeded');
      assert.equal(stateOf(held, 'prom-d'), 'pending');
      recovered.push(...held.hosts.find((h) => h.hostId === 'prom-c')!.recoveries.map((r) => r.seconds ?? NaN));
      const gates = await gateEvents(id);
      assert.deepEqual(
        gates.map((g) => [g.wave, g.status]),
        [[0, 'false']],
      );
      // Still held a few sweeps later: prom-d is not started while the alert is active.
      await sleep(5000);
      const still = await view(id);
      assert.equal(still.state, 'waiting-gate', still.decision.reason);
      assert.equal(stateOf(still, 'prom-d'), 'pending');
      const gateResults = await waitFor('the controller gate counters in Prometheus', 20_000, async () => {
        const samples = await prometheus.query(
          'sum by (result) (hotswap_controller_gate_results_total{gate="prometheus"})',
        );
        const by = Object.fromEntries(samples.map((s) => [s.metric['result'], s.value]));
        return by['false'] === 1 ? by : undefined;
      });
      assert.equal(gateResults['ok'], 2, JSON.stringify(gateResults));
      const aborted = await postJson(url(`/v1/rollouts/${id}/abort`), {});
      assert.equal(aborted.status, 200, JSON.stringify(aborted.body));
      lap('rollout 3 held, then aborted, after', since);
    });

    it('the recovery p99 query gives the value the scenario implies', async (t) => {
      // a, b and c: two applications each, reopening 3 s (+-100 ms) after the error.
      assert.equal(recovered.length, 6, JSON.stringify(recovered));
      for (const seconds of recovered) assert.ok(seconds > 2 && seconds <= 5, `recovery ${seconds} s outside (2, 5]`);
      const expected = histogramQuantile(0.99, recovered);
      assert.ok(Math.abs(expected - 4.97) < 1e-9, String(expected));

      const p99 = realRule((r) => r.record === 'module:hotswap_agent_app_recovery_seconds:p99_30m');
      const byModule = await waitFor('the module p99 recording rule to reach its value', 30_000, async () => {
        const samples = await prometheus.query('module:hotswap_agent_app_recovery_seconds:p99_30m');
        return samples.length === 1 && Math.abs(samples[0]!.value - expected) < 1e-6 ? samples : undefined;
      }).catch(async (error: Error) => {
        const last = await prometheus.query('module:hotswap_agent_app_recovery_seconds:p99_30m');
        throw new Error(`${error.message}; last: ${JSON.stringify(last)}, expected ${expected}`);
      });
      assert.equal(byModule[0]!.metric['module'], 'hs_misc');
      // The rule's expression queried directly agrees with what it recorded.
      const direct = await prometheus.query(p99.expr);
      assert.equal(direct.length, 1);
      assert.ok(Math.abs(direct[0]!.value - expected) < 1e-6, String(direct[0]!.value));

      const byHost = await prometheus.query('host:hotswap_agent_app_recovery_seconds:p99_30m');
      const perHost = Object.fromEntries(byHost.map((s) => [s.metric['host'], s.value]));
      for (const host of ['prom-a', 'prom-b', 'prom-c']) {
        assert.ok(Math.abs(perHost[host]! - expected) < 1e-6, `${host}: ${perHost[host]}`);
      }
      assert.ok(Number.isNaN(perHost[ZOMBIE_HOST]), `${ZOMBIE_HOST} recovered nothing: ${perHost[ZOMBIE_HOST]}`);
      assert.equal(perHost['prom-d'], undefined, 'prom-d was never swapped');
      t.diagnostic(
        `recoveries ${recovered.map((s) => s.toFixed(2)).join(', ')} s; p99 ${byModule[0]!.value} ` +
          `(bucket (2, 5], expected ${expected.toFixed(2)})`,
      );
    });

    it('ZombieFdsNotClosing was never active on another host during the whole test', async (t) => {
      const window = Math.ceil((Date.now() - startedAt) / 1000) + 5;
      const ever = await prometheus.query(
        `max by (host, rules) (max_over_time(ALERTS{alertname="ZombieFdsNotClosing"}[${window}s]))`,
      );
      assert.deepEqual(
        ever.map((s) => [s.metric['host'], s.metric['rules']]),
        [[ZOMBIE_HOST, 'test-copy']],
      );
      t.diagnostic(timings.join('; '));
    });
  },
);
