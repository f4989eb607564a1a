import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseScenario } from '@hotswap/kernel';
import { REPO_ROOT, SimFleet, paths } from '@hotswap/tools';
import { parse } from 'yaml';
import { getJson, getText, metricValue, postJson, waitFor } from '../support/http.js';
import { exposedNames, metricNamesIn } from '../support/promql.js';
import { promtool, requirePromtool } from '../support/promtool.js';

/**
 * The real /metrics of a real agent and a real controller, after a swap has run (so the
 * histograms have samples): `promtool check metrics` passes on both, and every metric the
 * Grafana dashboard and the Prometheus rules read is one of them (or a recording rule).
 */
const SCENARIO = 'misc-driver-owned';
const scenarioFile = join(paths.scenarios, `${SCENARIO}.yaml`);
const DASHBOARD = join(REPO_ROOT, 'deploy/grafana/hotswap.json');
const RULES = join(REPO_ROOT, 'deploy/prometheus/hotswap.rules.yaml');

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { refId: string; expr: string }[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

describe('deploy: real /metrics against promtool, the dashboard and the rules', { timeout: 120_000 }, () => {
  let fleet: SimFleet;
  let agentText = '';
  let controllerText = '';
  let hostId = '';

  before(async () => {
    requirePromtool();
    fleet = await SimFleet.start({ scenarios: [scenarioFile] });
    const host = fleet.hosts[0]!;
    hostId = host.hostId;
    const scenario = parseScenario(readFileSync(scenarioFile, 'utf8'));
    const device = scenario.devices[0]!;
    const driver = scenario.drivers.find((d) => d.name === device.driver)!;
    const created = await postJson(`${fleet.controllerUrl}/v1/rollouts`, {
      apiVersion: 'hotswap/v1',
      kind: 'Runbook',
      metadata: { name: 'deploy-metrics' },
      spec: {
        modules: [{ name: driver.module, target: { version: '2.0' } }],
        devices: { bus: device.bus, driver: driver.name },
        deadlines: { unbindSeconds: 2, zombieCloseSeconds: 5, actionSeconds: 5, recoveryWatchSeconds: 10 },
        recovery: { pollMilliseconds: 50 },
        hosts: { names: [hostId] },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const state = await waitFor('the rollout to end', 40_000, async () => {
      const view = await getJson<{ state: string }>(`${fleet.controllerUrl}/v1/rollouts/${String(created.body['id'])}`);
      return view.state === 'running' ? undefined : view.state;
    });
    assert.equal(state, 'succeeded');
    agentText = await getText(`${host.agentUrl}/metrics`);
    controllerText = await getText(`${fleet.controllerUrl}/metrics`);
  });

  after(async () => {
    await fleet?.stop(process.env['KEEP_FLEET'] === '1');
  });

  it('the agent exports the swap metrics, with samples after a swap', () => {
    const host = hostId;
    const count = metricValue(agentText, 'hotswap_agent_app_recovery_seconds_count', { host, status: 'recovered' });
    assert.ok((count ?? 0) >= 1, 'recoveries were measured');
    assert.equal(metricValue(agentText, 'hotswap_agent_swaps_total', { host, outcome: 'succeeded' }), 1);
    assert.equal(metricValue(agentText, 'hotswap_agent_swaps_total', { host, outcome: 'failed' }), 0);
    assert.equal(metricValue(agentText, 'hotswap_agent_device_without_driver', { host }), 0, 'rebound');
    assert.equal(metricValue(agentText, 'hotswap_agent_kernel_action_stuck', { host }), 0);
    assert.equal(metricValue(agentText, 'hotswap_agent_app_restarted_total', { host }), 0);
    assert.equal(
      metricValue(agentText, 'hotswap_agent_zombie_fds_oldest_timestamp_seconds', { host }),
      0,
      'every holder recovered',
    );
    assert.ok((metricValue(agentText, 'hotswap_agent_zombie_fds', { host }) ?? 0) >= 1);
    const holders = parseScenario(readFileSync(scenarioFile, 'utf8')).processes.length;
    assert.equal(
      metricValue(agentText, 'hotswap_agent_module_refcount', { host }),
      holders,
      'read live: one reference per reopened file (the driver owns the fops)',
    );
    assert.doesNotMatch(agentText, /\b(pid|path)="/, 'no unbounded labels');
  });

  it('promtool check metrics passes on the agent /metrics', () => {
    const result = promtool(['check', 'metrics'], { input: agentText });
    assert.equal(result.status, 0, result.output);
    assert.equal(result.output.trim(), '', result.output);
  });

  it('promtool check metrics passes on the controller /metrics', () => {
    assert.equal(
      metricValue(controllerText, 'hotswap_controller_rollout_host_results_total', { outcome: 'succeeded' }),
      1,
    );
    assert.equal(metricValue(controllerText, 'hotswap_controller_job_pickup_seconds_count', { queue: 'swaps' }), 1);
    assert.equal(
      metricValue(controllerText, 'hotswap_controller_swap_queue_jobs', { host: hostId, state: 'waiting' }),
      0,
    );
    const result = promtool(['check', 'metrics'], { input: controllerText });
    assert.equal(result.status, 0, result.output);
    assert.equal(result.output.trim(), '', result.output);
  });

  it('agent and controller export disjoint figures', () => {
    const agent = exposedNames(agentText);
    const controller = exposedNames(controllerText);
    assert.ok(
      [...agent].every((name) => name.startsWith('hotswap_agent_')),
      'agent: one prefix',
    );
    assert.ok(
      [...controller].every((name) => name.startsWith('hotswap_controller_')),
      'controller: one prefix',
    );
  });

  /** Every series name the apps can serve, the recording rules, and Prometheus' own `up`. */
  function known(): Set<string> {
    const rules = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { record?: string }[] }[] };
    const records = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])));
    return new Set([...exposedNames(agentText), ...exposedNames(controllerText), ...records, 'up']);
  }

  it('the Grafana dashboard parses and every query names a metric the apps export', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    assert.equal(dashboard.uid, 'hotswap');
    assert.ok(dashboard.schemaVersion >= 36);
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    assert.ok(queries.length >= 10);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      assert.ok((panel.targets ?? []).length > 0, `${panel.title}: no query`);
      assert.ok(panel.gridPos.w > 0 && panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title}: gridPos`);
    }
    const variables = dashboard.templating.list.filter((v) => v.type === 'query');
    for (const v of variables) {
      const query = typeof v.query === 'string' ? v.query : v.query.query;
      const series = /^label_values\((.+),\s*(\w+)\)$/.exec(query)?.[1];
      assert.ok(series, `variable ${v.name}: ${query}`);
      queries.push({ panel: `variable ${v.name}`, expr: series });
    }
    const names = known();
    const read = new Set<string>();
    for (const { panel, expr } of queries) {
      const found = metricNamesIn(expr);
      assert.ok(found.length > 0, `${panel}: no metric in ${expr}`);
      for (const name of found) {
        assert.ok(names.has(name), `${panel}: ${name} is neither exported nor recorded`);
        read.add(name);
      }
    }
    for (const wanted of [
      'module:hotswap_agent_app_recovery_seconds:p99_30m',
      'host:hotswap_agent_app_recovery_seconds:p99_30m',
      'host:hotswap_agent_zombie_fds:sum',
      'hotswap_agent_swap_phase_duration_seconds_bucket',
      'hotswap_agent_kernel_action_stuck',
      'hotswap_controller_rollouts_running',
      'hotswap_controller_registered_hosts',
      'hotswap_controller_swap_queue_jobs',
      'hotswap_controller_job_pickup_seconds_bucket',
      'hotswap_agent_module_refcount',
    ]) {
      assert.ok(read.has(wanted), `the dashboard does not show ${wanted}`);
    }
  });

  it('every metric the Prometheus rules read is exported by an app or recorded', () => {
    const rules = parse(readFileSync(RULES, 'utf8')) as {
      groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
    };
    const names = known();
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      for (const name of metricNamesIn(rule.expr)) {
        assert.ok(names.has(name), `${rule.alert ?? rule.record}: ${name} is neither exported nor recorded`);
      }
    }
  });
});
