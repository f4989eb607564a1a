import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { REPO_ROOT } from '@hotswap/tools';
import { parse } from 'yaml';
import { headingAnchors } from '../support/markdown.js';
import { metricNamesIn } from '../support/promql.js';
import { promtool, requirePromtool } from '../support/promtool.js';

/**
 * deploy/prometheus/: the rules pass `promtool check rules`, their unit tests pass
 * `promtool test rules`, and every alert carries what an operator needs (severity, summary,
 * description, a `for`, a runbook_url to its section of docs/alerts.md) and is tested both
 * firing and not firing. promtool is required: without it this fails, it does not skip.
 */
const DIR = join(REPO_ROOT, 'deploy/prometheus');
const RULES = 'hotswap.rules.yaml';
const TEST_FILES = readdirSync(join(DIR, 'tests'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => `tests/${f}`);

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[] | null;
}
const groups = (parse(readFileSync(join(DIR, RULES), 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);

/** Alerts whose expression aggregates every label away: nothing to locate but the fleet. */
const FLEET_WIDE = new Set(['RolloutStalled', 'RolloutPausedTooLong']);

describe('deploy/prometheus: rules and their tests', () => {
  before(() => requirePromtool());

  it('promtool check rules passes', () => {
    const result = promtool(['check', 'rules', RULES], { cwd: DIR });
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('promtool test rules passes for every test file', () => {
    assert.ok(TEST_FILES.length >= 2, `test files: ${TEST_FILES.join(', ')}`);
    const result = promtool(['test', 'rules', ...TEST_FILES], { cwd: DIR });
    assert.equal(result.status, 0, result.output);
    assert.doesNotMatch(result.output, /FAILED/);
  });

  it('promtool check config passes on the example configuration, which loads the rules', () => {
    const result = promtool(['check', 'config', 'prometheus.example.yaml'], { cwd: DIR });
    assert.equal(result.status, 0, result.output);
    const config = parse(readFileSync(join(DIR, 'prometheus.example.yaml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string }[];
    };
    assert.deepEqual(config.rule_files, [RULES]);
    assert.deepEqual(config.scrape_configs.map((s) => s.job_name).sort(), ['hotswap-agent', 'hotswap-controller']);
  });

  it('covers what the issue lists', () => {
    const names = alerts.map((a) => a.alert);
    for (const name of [
      'RecoverySLOBreached',
      'ZombieFdsNotClosing',
      'DeviceWithoutDriver',
      'KernelActionStuck',
      'RolloutStalled',
      'AgentDown',
    ]) {
      assert.ok(names.includes(name), `no alert ${name}`);
    }
    const records = rules.flatMap((r) => (r.record ? [r.record] : []));
    for (const level of ['module', 'host']) {
      for (const p of ['p50', 'p95', 'p99']) {
        assert.ok(records.includes(`${level}:hotswap_agent_app_recovery_seconds:${p}_30m`), `${level} ${p}`);
      }
    }
    assert.ok(records.includes('host:hotswap_agent_zombie_fds:sum'));
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
  });

  it('every alert has a severity, a for, a summary, a locating description and a runbook section', () => {
    const anchors = headingAnchors(readFileSync(join(REPO_ROOT, 'docs/alerts.md'), 'utf8'));
    for (const alert of alerts) {
      const where = `alert ${alert.alert}`;
      assert.match(alert.labels?.['severity'] ?? '', /^(warning|critical)$/, where);
      assert.match(alert.for ?? '', /^\d+[smh]$/, `${where}: for`);
      assert.ok((alert.annotations?.['summary'] ?? '').length > 10, `${where}: summary`);
      const description = alert.annotations?.['description'] ?? '';
      if (!FLEET_WIDE.has(alert.alert)) assert.match(description, /\{\{ \$labels\.\w+ \}\}/, `${where}: description`);
      const url = alert.annotations?.['runbook_url'] ?? '';
      const anchor = /^docs\/alerts\.md#([a-z0-9-]+)$/.exec(url)?.[1];
      assert.ok(anchor, `${where}: runbook_url ${url}`);
      assert.equal(anchor, alert.alert.toLowerCase(), `${where}: its own section`);
      assert.ok(anchors.has(anchor), `${where}: docs/alerts.md has no section #${anchor}`);
    }
  });

  it('docs/alerts.md has a section for every alert and none for an alert that does not exist', () => {
    const text = readFileSync(join(REPO_ROOT, 'docs/alerts.md'), 'utf8');
    const sections = [...text.matchAll(/^## (\S+)\s*$/gm)].map((m) => m[1]);
    assert.deepEqual([...sections].sort(), alerts.map((a) => a.alert).sort());
  });

  it('every alert is tested firing, and not firing', () => {
    const cases = TEST_FILES.flatMap((file) => {
      const doc = parse(readFileSync(join(DIR, file), 'utf8')) as {
        rule_files: string[];
        tests: { alert_rule_test?: AlertTest[] }[];
      };
      assert.deepEqual(doc.rule_files, [`../${RULES}`], file);
      return doc.tests.flatMap((t) => t.alert_rule_test ?? []);
    });
    for (const { alert } of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert}: no test case where it fires`,
      );
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert}: no test case where it must not fire`,
      );
    }
    const unknown = cases.filter((c) => !alerts.some((a) => a.alert === c.alertname));
    assert.deepEqual(unknown, [], 'tests of alerts that do not exist');
  });

  it('recording rules follow level:metric:operations and alerts read only real or recorded series', () => {
    const records = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const record of records) assert.match(record, /^[a-z_]+:hotswap_[a-z_]+:[a-z0-9_]+$/, record);
    for (const rule of rules) {
      for (const name of metricNamesIn(rule.expr)) {
        if (name.includes(':')) assert.ok(records.has(name), `${rule.alert ?? rule.record} reads unknown ${name}`);
        else assert.match(name, /^(hotswap_(agent|controller)_\w+|up)$/, `${rule.alert ?? rule.record}: ${name}`);
      }
    }
  });
});

describe('metricNamesIn (the PromQL scan the deploy tests rely on)', () => {
  it('finds metric names, not functions, labels, keywords, durations or variables', () => {
    assert.deepEqual(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (module, le) (rate(hotswap_agent_app_recovery_seconds_bucket{host=~"$host",le!="+Inf"}[$__rate_interval])))',
      ),
      ['hotswap_agent_app_recovery_seconds_bucket'],
    );
    assert.deepEqual(
      metricNamesIn(
        'max(hotswap_controller_rollouts_running) > 0 and on () sum(increase(x_total[30m] offset 5m)) == bool 0',
      ),
      ['hotswap_controller_rollouts_running', 'x_total'],
    );
    assert.deepEqual(metricNamesIn('(time() - a:b:c{module="x y"}) and b > 1e3 unless ignoring(host) c'), [
      'a:b:c',
      'b',
      'c',
    ]);
  });
});
