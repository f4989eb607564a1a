import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseRunbook,
  requireHosts,
  RunbookValidationError,
  validateRunbook,
  type ModuleTargetSpec,
  type RunbookIssue,
} from '../src/index.js';
import { issueAt, issuesOf, MINIMAL } from './runbook.fixtures.js';

/** The example from the runbook's design, line for line. */
const FULL = `apiVersion: hotswap/v1
kind: Runbook
metadata:
  name: mlx5-5-9
spec:
  modules:
    - name: mlx5_ib
      target:
        version: "5.9-1"
        params: ["prof_sel=2"]
    - name: mlx5_core
      target: { file: /opt/drivers/mlx5_core.ko }
  devices:
    bus: pci
    driver: mlx5_core
    vendor: "0x15b3"
    device: "0x1017"
  deadlines:
    unbindSeconds: 30
    zombieCloseSeconds: 60
    actionSeconds: 60
    recoveryWatchSeconds: 120
  blockedUnbind:
    policy: signal
    graceSeconds: 10
  recovery:
    pollMilliseconds: 100
  hosts:
    names: [host-a, host-b]
`;

/** MINIMAL with one line replaced (1-based), or lines inserted after it. */
function edit(line: number, replacement: string, keep = false): string {
  const lines = MINIMAL.split('\n');
  lines.splice(keep ? line : line - 1, keep ? 0 : 1, ...replacement.split('\n'));
  return lines.join('\n');
}

describe('parseRunbook: valid runbooks', () => {
  it('applies every default to a minimal runbook', () => {
    assert.deepEqual(parseRunbook(MINIMAL), {
      apiVersion: 'hotswap/v1',
      kind: 'Runbook',
      metadata: { name: 'sim-misc' },
      spec: {
        modules: [{ name: 'hs_misc', target: { version: '2.0', params: [] } }],
        devices: { bus: 'platform', driver: 'hs_misc' },
        deadlines: { unbindSeconds: 30, zombieCloseSeconds: 60, actionSeconds: 60, recoveryWatchSeconds: 120 },
        blockedUnbind: { policy: 'fail', graceSeconds: 10 },
        recovery: { pollMilliseconds: 100 },
        strategy: { canary: 1, maxUnavailable: 1, pauseBetweenWavesSeconds: 0 },
        slo: { percentile: 95, recoverySeconds: 30, maxNotRecovered: 0 },
        failurePolicy: 'pause',
        maintenanceWindows: [],
        hooks: { pre: [], post: [] },
      },
    });
  });

  it('reads the full example, both target kinds narrowable with `in`', () => {
    const runbook = parseRunbook(FULL, 'mlx5.yaml');
    const describeTarget = (target: ModuleTargetSpec): string =>
      'file' in target ? `file ${target.file}` : `version ${target.version}`;
    assert.deepEqual(
      runbook.spec.modules.map(
        (step) => `${step.name}: ${describeTarget(step.target)} ${step.target.params.join(',')}`,
      ),
      ['mlx5_ib: version 5.9-1 prof_sel=2', 'mlx5_core: file /opt/drivers/mlx5_core.ko '],
    );
    assert.deepEqual(runbook.spec.devices, { bus: 'pci', driver: 'mlx5_core', vendor: '0x15b3', device: '0x1017' });
    assert.deepEqual(runbook.spec.blockedUnbind, { policy: 'signal', graceSeconds: 10 });
    assert.deepEqual(requireHosts(runbook), ['host-a', 'host-b']);
  });

  it('reads JSON, fractional deadlines and a signal policy without grace', () => {
    const runbook = parseRunbook(
      JSON.stringify({
        apiVersion: 'hotswap/v1',
        kind: 'Runbook',
        metadata: { name: 'x' },
        spec: {
          modules: [{ name: 'hs-misc', target: { file: '/lib/modules/6.8.0/extra/hs_misc.ko.zst' } }],
          devices: { bus: 'platform', driver: 'hs_misc' },
          deadlines: { unbindSeconds: 0.25 },
          blockedUnbind: { policy: 'signal' },
        },
      }),
    );
    assert.equal(runbook.spec.deadlines.unbindSeconds, 0.25);
    assert.equal(runbook.spec.deadlines.actionSeconds, 60);
    assert.deepEqual(runbook.spec.blockedUnbind, { policy: 'signal', graceSeconds: 10 });
  });

  it('accepts the module name length limit of the kernel (55) and module parameters with values', () => {
    const name = 'm'.repeat(55);
    const runbook = parseRunbook(
      edit(7, `    - name: ${name}`).replace(
        'version: "2.0"',
        'version: "2.0"\n        params: [debug, "opts=a,b", "x=[1]"]',
      ),
    );
    assert.equal(runbook.spec.modules[0]?.name, name);
    assert.deepEqual(runbook.spec.modules[0]?.target.params, ['debug', 'opts=a,b', 'x=[1]']);
  });
});

describe('parseRunbook: issues name the path and the line/column', () => {
  it('unknown key: at the key, with the closest known key suggested', () => {
    const issue = issueAt(edit(12, '  deadlines:\n    unbindSecond: 5', true), 'spec.deadlines.unbindSecond');
    assert.deepEqual([issue.line, issue.column], [14, 5]);
    assert.match(issue.message, /unknown key "unbindSecond": did you mean "unbindSeconds"\?/);
  });

  it('unknown key with no close match: lists the known keys', () => {
    const issue = issueAt(edit(12, '  timeline: canary', true), 'spec.timeline');
    assert.deepEqual([issue.line, issue.column], [13, 3]);
    assert.match(
      issue.message,
      /expected one of modules, devices, deadlines, blockedUnbind, recovery, hosts, strategy, slo, failurePolicy, maintenanceWindows, prometheusGate, hooks, subsystem$/,
    );
  });

  it('unknown key differing in case only is suggested', () => {
    const issue = issueAt(edit(12, '    Driver: hs_misc'), 'spec.devices.Driver');
    assert.match(issue.message, /did you mean "driver"/);
  });

  it('missing field: at the nearest existing parent', () => {
    const issue = issueAt(edit(12, ''), 'spec.devices.driver');
    assert.deepEqual([issue.line, issue.column], [10, 3]);
    assert.match(issue.message, /required/);
    const root = issueAt(MINIMAL.replace('kind: Runbook\n', ''), 'kind');
    assert.deepEqual([root.line, root.column], [1, 1]);
  });

  it('module name with ../ or whitespace: says why', () => {
    const slash = issueAt(edit(7, '    - name: ../hs_misc'), 'spec.modules[0].name');
    assert.deepEqual([slash.line, slash.column], [7, 13]);
    assert.match(slash.message, /contains '\/'.*\/sys\/module/);
    const space = issueAt(edit(7, '    - name: "hs misc"'), 'spec.modules[0].name');
    assert.match(space.message, /whitespace/);
    assert.match(issueAt(edit(7, '    - name: ..'), 'spec.modules[0].name').message, /contains '\.\.'/);
    assert.match(issueAt(edit(7, '    - name: "-r"'), 'spec.modules[0].name').message, /starts with '-'/);
    assert.match(issueAt(edit(7, `    - name: ${'m'.repeat(56)}`), 'spec.modules[0].name').message, /at most 55/);
    assert.match(issueAt(edit(7, '    - name: hs.misc'), 'spec.modules[0].name').message, /letters, digits/);
  });

  it('target with both version and file, or neither: at the target', () => {
    const both = issueAt(edit(9, '        version: "2.0"\n        file: /x/hs_misc.ko'), 'spec.modules[0].target');
    assert.deepEqual([both.line, both.column], [9, 9]);
    assert.match(both.message, /both "version" and "file"/);
    const neither = issueAt(edit(9, '        params: []'), 'spec.modules[0].target');
    assert.match(neither.message, /needs "version".*or "file"/);
  });

  it('module file: absolute, normalized, no .., no whitespace, a .ko', () => {
    const file = (path: string): RunbookIssue =>
      issueAt(edit(9, `        file: ${JSON.stringify(path)}`), 'spec.modules[0].target.file');
    assert.deepEqual([file('x.ko').line, file('x.ko').column], [9, 15]);
    assert.match(file('drivers/x.ko').message, /absolute/);
    assert.match(file('/opt/../x.ko').message, /'\.\.' segment/);
    assert.match(file('/opt//drivers/./x.ko').message, /not normalized: write "\/opt\/drivers\/x.ko"/);
    assert.match(file('/opt/x y.ko').message, /whitespace/);
    assert.match(file('/opt/x\u0007.ko').message, /control character/);
    assert.match(file('/opt/x.so').message, /\.ko, \.ko\.xz/);
    assert.match(file('/opt/.ko').message, /\.ko, \.ko\.xz/);
  });

  it('module parameters: one name[=value] per entry', () => {
    const issue = issueAt(
      edit(9, '        version: "2.0"\n        params: [ok=1, "a b"]'),
      'spec.modules[0].target.params[1]',
    );
    assert.deepEqual([issue.line, issue.column], [10, 24]);
    assert.match(issue.message, /whitespace/);
    assert.match(
      issueAt(edit(9, '        version: "2.0"\n        params: ["=1"]'), 'spec.modules[0].target.params[0]').message,
      /name=value/,
    );
  });

  it('deadlines: positive and at most a day', () => {
    const deadline = (value: string): RunbookIssue =>
      issueAt(edit(12, `  deadlines:\n    actionSeconds: ${value}`, true), 'spec.deadlines.actionSeconds');
    const negative = deadline('-1');
    assert.deepEqual([negative.line, negative.column], [14, 20]);
    assert.match(negative.message, /greater than 0/);
    assert.match(deadline('0').message, /greater than 0/);
    assert.match(deadline('86401').message, /at most 86400/);
    assert.match(deadline('.inf').message, /./);
    assert.match(deadline('"30"').message, /number of seconds, got the string "30"/);
  });

  it('recovery poll interval: 10..10000 whole milliseconds', () => {
    const poll = (value: string): RunbookIssue =>
      issueAt(edit(12, `  recovery:\n    pollMilliseconds: ${value}`, true), 'spec.recovery.pollMilliseconds');
    assert.match(poll('5').message, /at least 10/);
    assert.match(poll('10001').message, /at most 10000/);
    assert.match(poll('10.5').message, /whole number/);
  });

  it('blocked unbind policy: fail or signal', () => {
    const issue = issueAt(edit(12, '  blockedUnbind: { policy: kill }', true), 'spec.blockedUnbind.policy');
    assert.deepEqual([issue.line, issue.column], [13, 28]);
    assert.match(issue.message, /must be "fail" or "signal", got the string "kill"/);
  });

  it('duplicate modules, including - and _ spellings of one name', () => {
    const text = edit(9, '        version: "2.0"\n    - name: hs-misc\n      target: { version: "2.0" }');
    const issue = issueAt(text, 'spec.modules[1].name');
    assert.deepEqual([issue.line, issue.column], [10, 13]);
    assert.match(issue.message, /already listed at spec\.modules\[0\].*'-' and '_' alike/);
  });

  it('at least one module', () => {
    const issue = issueAt(MINIMAL.replace(/ {2}modules:\n[\s\S]*?(?= {2}devices)/, '  modules: []\n'), 'spec.modules');
    assert.match(issue.message, /at least one module/);
  });

  it('device selector: names and ids, with a hint to quote an unquoted hex id', () => {
    assert.match(issueAt(edit(11, '    bus: ../pci'), 'spec.devices.bus').message, /contains '\/'/);
    assert.match(issueAt(edit(12, '    driver: ..'), 'spec.devices.driver').message, /contains '\.\.'/);
    const vendor = issueAt(edit(11, '    vendor: 0x15b3', true), 'spec.devices.vendor');
    assert.deepEqual([vendor.line, vendor.column], [12, 13]);
    assert.match(vendor.message, /got the number 5555: quote it/);
    assert.match(
      issueAt(edit(11, '    device: "15b3"', true), 'spec.devices.device').message,
      /0x and four hex digits/,
    );
  });

  it('unquoted version read as a number: says to quote it', () => {
    const issue = issueAt(MINIMAL.replace('"2.0"', '2.0'), 'spec.modules[0].target.version');
    assert.match(issue.message, /got the number 2: quote it/);
  });

  it('apiVersion, kind and metadata.name', () => {
    assert.match(issueAt(MINIMAL.replace('hotswap/v1', 'hotswap/v2'), 'apiVersion').message, /must be "hotswap\/v1"/);
    assert.match(issueAt(MINIMAL.replace('kind: Runbook', 'kind: runbook'), 'kind').message, /must be "Runbook"/);
    assert.match(issueAt(MINIMAL.replace('name: sim-misc', 'name: Sim_Misc'), 'metadata.name').message, /lowercase/);
  });

  it('hosts: valid, unique names', () => {
    const dup = issueAt(edit(12, '  hosts:\n    names: [host-a, host-b, host-a]', true), 'spec.hosts.names[2]');
    assert.deepEqual([dup.line, dup.column], [14, 29]);
    assert.match(dup.message, /already listed at spec\.hosts\.names\[0\]/);
    assert.match(issueAt(edit(12, '  hosts:\n    names: [Host_A]', true), 'spec.hosts.names[0]').message, /lowercase/);
    assert.match(issueAt(edit(12, '  hosts:\n    names: []', true), 'spec.hosts.names').message, /at least one host/);
    assert.match(issueAt(edit(12, '  hosts: {}', true), 'spec.hosts.names').message, /required/);
  });

  it('YAML syntax errors and duplicate keys are issues with a position', () => {
    const duplicate = issuesOf(edit(12, '    driver: hs_misc\n    driver: other'));
    assert.equal(duplicate.length, 1);
    assert.deepEqual([duplicate[0]?.line, duplicate[0]?.column, duplicate[0]?.path], [13, 5, '']);
    assert.match(duplicate[0]?.message ?? '', /duplicate key/);
    const syntax = issuesOf(edit(12, '    driver: [hs_misc'));
    assert.ok(syntax.length >= 1 && syntax.every((issue) => issue.line !== undefined && issue.line >= 12));
    assert.match(issuesOf(`${MINIMAL}---\n${MINIMAL}`)[0]?.message ?? '', /one document/);
  });

  it('an empty document or a list is not a runbook', () => {
    assert.match(issuesOf('')[0]?.message ?? '', /expected a mapping, got null/);
    assert.match(issuesOf('- a\n')[0]?.message ?? '', /expected a mapping, got a list/);
  });

  it('the error lists every issue as source:line:column: path: message, in text order', () => {
    const text = MINIMAL.replace('hotswap/v1', 'v0')
      .replace('bus: platform', 'bus: a/b')
      .replace('"2.0"', '"2.0"\n        file: /x.ko');
    assert.throws(
      () => parseRunbook(text, 'runbooks/sim.yaml'),
      (error: unknown) => {
        assert.ok(error instanceof RunbookValidationError);
        assert.equal(error.code, 'RUNBOOK_INVALID');
        assert.equal(error.source, 'runbooks/sim.yaml');
        assert.deepEqual(
          error.issues.map((issue) => issue.path),
          ['apiVersion', 'spec.modules[0].target', 'spec.devices.bus'],
        );
        const lines = error.message.split('\n');
        assert.equal(lines[0], 'invalid runbook runbooks/sim.yaml (3 issues):');
        assert.match(
          lines[1] ?? '',
          /^runbooks\/sim\.yaml:1:13: apiVersion: must be "hotswap\/v1", got the string "v0"$/,
        );
        assert.match(lines[2] ?? '', /^runbooks\/sim\.yaml:9:9: spec\.modules\[0\]\.target: /);
        assert.match(lines[3] ?? '', /^runbooks\/sim\.yaml:12:10: spec\.devices\.bus: /);
        return true;
      },
    );
  });
});

describe('validateRunbook', () => {
  const body = (): Record<string, unknown> => JSON.parse(JSON.stringify(parseRunbook(FULL))) as Record<string, unknown>;

  it('accepts an already-parsed runbook and does not change its input', () => {
    const input = body();
    const before = JSON.stringify(input);
    assert.deepEqual(validateRunbook(input), parseRunbook(FULL));
    assert.equal(JSON.stringify(input), before);
  });

  it('reports the same issues, without positions', () => {
    const input = body() as { spec: { deadlines: Record<string, unknown>; modules: { name: string }[] } };
    input.spec.deadlines['unbindSecond'] = 1;
    (input.spec.modules[1] as { name: string }).name = 'a/b';
    assert.throws(
      () => validateRunbook(input),
      (error: unknown) => {
        assert.ok(error instanceof RunbookValidationError);
        assert.deepEqual(
          error.issues.map((issue) => [issue.path, issue.line, issue.column]),
          [
            ['spec.modules[1].name', undefined, undefined],
            ['spec.deadlines.unbindSecond', undefined, undefined],
          ],
        );
        assert.match(
          error.message,
          /^spec\.deadlines\.unbindSecond: unknown key "unbindSecond": did you mean "unbindSeconds"\?$/m,
        );
        return true;
      },
    );
  });

  it('refuses what is not an object', () => {
    for (const value of [null, undefined, 'runbook', 42, []]) {
      assert.throws(() => validateRunbook(value), RunbookValidationError);
    }
  });
});

describe('requireHosts', () => {
  it('throws on a runbook without hosts, naming spec.hosts.names', () => {
    const runbook = parseRunbook(MINIMAL);
    assert.throws(
      () => requireHosts(runbook),
      (error: unknown) =>
        error instanceof RunbookValidationError &&
        error.code === 'RUNBOOK_INVALID' &&
        error.issues.length === 1 &&
        error.issues[0]?.path === 'spec.hosts.names',
    );
    assert.throws(
      () => requireHosts({ ...runbook, spec: { ...runbook.spec, hosts: { names: [] } } }),
      RunbookValidationError,
    );
  });
});
