import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hostSelectorOf,
  maxUnavailableOf,
  minutesOfDay,
  parseRunbook,
  requireHosts,
  RunbookValidationError,
  validateRunbook,
} from '../src/index.js';
import { issueAt, MINIMAL } from './runbook.fixtures.js';

/** The first appended line is line 13. */
const withSpec = (lines: string): string => `${MINIMAL}${lines}\n`;

describe('spec.hosts: names or a label selector', () => {
  it('a selector resolves to matchLabels; names keep working', () => {
    const bySelector = parseRunbook(withSpec('  hosts:\n    selector:\n      matchLabels: { rack: r1, zone: eu-1a }'));
    assert.deepEqual(bySelector.spec.hosts, { selector: { matchLabels: { rack: 'r1', zone: 'eu-1a' } } });
    assert.deepEqual(hostSelectorOf(bySelector), { matchLabels: { rack: 'r1', zone: 'eu-1a' } });
    const byName = parseRunbook(withSpec('  hosts:\n    names: [h1, h2]'));
    assert.deepEqual(hostSelectorOf(byName), { names: ['h1', 'h2'] });
    assert.deepEqual(requireHosts(byName), ['h1', 'h2']);
    assert.deepEqual(byName.spec.hosts?.names, ['h1', 'h2']);
  });

  it('requireHosts refuses a selector, hostSelectorOf a runbook without hosts', () => {
    const bySelector = parseRunbook(withSpec('  hosts:\n    selector: { matchLabels: { rack: r1 } }'));
    assert.throws(() => requireHosts(bySelector), /selects its hosts by labels.*hostSelectorOf/);
    assert.throws(
      () => hostSelectorOf(parseRunbook(MINIMAL)),
      (error: unknown) => error instanceof RunbookValidationError && error.issues[0]?.path === 'spec.hosts',
    );
  });

  it('exactly one of names and selector', () => {
    const both = issueAt(
      withSpec('  hosts:\n    names: [h1]\n    selector: { matchLabels: { rack: r1 } }'),
      'spec.hosts',
    );
    assert.deepEqual([both.line, both.column], [14, 5]);
    assert.match(both.message, /both "names" and "selector": give exactly one/);
    assert.match(issueAt(withSpec('  hosts: {}'), 'spec.hosts.names').message, /"names".*or "selector"/);
  });

  it('labels: at least one, keys and values checked with the reason', () => {
    assert.match(
      issueAt(withSpec('  hosts:\n    selector: { matchLabels: {} }'), 'spec.hosts.selector.matchLabels').message,
      /empty selector would select every host/,
    );
    const text = withSpec('  hosts:\n    selector:\n      matchLabels: { Rack: r1, zone: 3, "a/b": x, pool: "-x" }');
    assert.match(issueAt(text, 'spec.hosts.selector.matchLabels.Rack').message, /label key "Rack" is not valid/);
    const zone = issueAt(text, 'spec.hosts.selector.matchLabels.zone');
    assert.match(zone.message, /label value must be a string, got the number 3: quote it/);
    assert.equal(zone.line, 15);
    assert.match(issueAt(text, 'spec.hosts.selector.matchLabels["a/b"]').message, /contains '\/'/);
    assert.match(issueAt(text, 'spec.hosts.selector.matchLabels.pool').message, /starts with '-'/);
    assert.match(
      issueAt(withSpec('  hosts:\n    selector: { matchLabel: { rack: r1 } }'), 'spec.hosts.selector.matchLabel')
        .message,
      /did you mean "matchLabels"/,
    );
  });
});

describe('spec.strategy', () => {
  it('defaults: one canary, one host at a time, no domain cap, no pause', () => {
    assert.deepEqual(parseRunbook(MINIMAL).spec.strategy, {
      canary: 1,
      maxUnavailable: 1,
      pauseBetweenWavesSeconds: 0,
    });
  });

  it('maxUnavailable: a count or a percentage, kept as written', () => {
    const strategy = (text: string) => parseRunbook(withSpec(`  strategy:\n${text}`)).spec.strategy;
    assert.equal(strategy('    maxUnavailable: 3').maxUnavailable, 3);
    assert.equal(strategy('    maxUnavailable: "25%"').maxUnavailable, '25%');
    assert.deepEqual(maxUnavailableOf('25%'), { percent: 25 });
    assert.deepEqual(maxUnavailableOf('100%'), { percent: 100 });
    assert.deepEqual(maxUnavailableOf(3), { count: 3 });
    assert.deepEqual(
      strategy('    canary: 0\n    domainCap: { label: rack, max: 2 }\n    pauseBetweenWavesSeconds: 0.5'),
      { canary: 0, maxUnavailable: 1, domainCap: { label: 'rack', max: 2 }, pauseBetweenWavesSeconds: 0.5 },
    );
  });

  it('refuses bad values, naming the field', () => {
    const at = (text: string, field: string) => issueAt(withSpec(`  strategy:\n${text}`), `spec.strategy.${field}`);
    const zero = at('    maxUnavailable: 0', 'maxUnavailable');
    assert.deepEqual([zero.line, zero.column], [14, 21]);
    assert.match(zero.message, /maxUnavailable must be a whole number of hosts, at least 1/);
    assert.match(at('    maxUnavailable: 1.5', 'maxUnavailable').message, /whole number/);
    assert.match(at('    maxUnavailable: "0%"', 'maxUnavailable').message, /between 1% and 100%/);
    assert.match(at('    maxUnavailable: "150%"', 'maxUnavailable').message, /between 1% and 100%/);
    assert.match(at('    maxUnavailable: "5"', 'maxUnavailable').message, /a number of hosts \(2\) or a percentage/);
    assert.match(at('    maxUnavailable: "25 %"', 'maxUnavailable').message, /is not valid/);
    assert.match(at('    maxUnavailable: [1]', 'maxUnavailable').message, /got a list/);
    assert.match(at('    canary: -1', 'canary').message, /canary must be at least 0/);
    assert.match(at('    canary: 0.5', 'canary').message, /canary must be a whole number/);
    assert.match(at('    domainCap: { label: rack, max: 0 }', 'domainCap.max').message, /at least 1/);
    assert.match(at('    domainCap: { label: Rack, max: 1 }', 'domainCap.label').message, /label key "Rack"/);
    assert.match(at('    domainCap: { max: 1 }', 'domainCap.label').message, /required/);
    assert.match(at('    pauseBetweenWavesSeconds: -1', 'pauseBetweenWavesSeconds').message, /0 or more/);
    assert.match(at('    pauseBetweenWavesSeconds: 86401', 'pauseBetweenWavesSeconds').message, /at most 86400/);
    assert.match(at('    canary: 1\n    maxUnavailabe: 2', 'maxUnavailabe').message, /did you mean "maxUnavailable"/);
  });
});

describe('spec.slo and spec.failurePolicy', () => {
  it('defaults: p95 within 30 s, every application recovers, pause on failure', () => {
    const { spec } = parseRunbook(MINIMAL);
    assert.deepEqual(spec.slo, { percentile: 95, recoverySeconds: 30, maxNotRecovered: 0 });
    assert.equal(spec.failurePolicy, 'pause');
  });

  it('accepts a fractional percentile and every policy', () => {
    const slo = parseRunbook(withSpec('  slo: { percentile: 99.9, recoverySeconds: 2.5, maxNotRecovered: 3 }')).spec
      .slo;
    assert.deepEqual(slo, { percentile: 99.9, recoverySeconds: 2.5, maxNotRecovered: 3 });
    for (const policy of ['pause', 'rollback-host', 'rollback-all']) {
      assert.equal(parseRunbook(withSpec(`  failurePolicy: ${policy}`)).spec.failurePolicy, policy);
    }
  });

  it('refuses out-of-range values, naming the field', () => {
    const at = (text: string, field: string) => issueAt(withSpec(`  slo:\n${text}`), `spec.slo.${field}`);
    assert.match(at('    percentile: 0', 'percentile').message, /between 1 and 100/);
    assert.match(at('    percentile: 100.1', 'percentile').message, /between 1 and 100/);
    assert.match(at('    percentile: p95', 'percentile').message, /must be a number, got the string "p95"/);
    assert.match(at('    recoverySeconds: 0', 'recoverySeconds').message, /greater than 0/);
    assert.match(at('    maxNotRecovered: -1', 'maxNotRecovered').message, /at least 0/);
    assert.match(at('    maxNotRecovered: 0.5', 'maxNotRecovered').message, /whole number/);
    const policy = issueAt(withSpec('  failurePolicy: rollback'), 'spec.failurePolicy');
    assert.deepEqual([policy.line, policy.column], [13, 18]);
    assert.match(policy.message, /must be "pause" or "rollback-host" or "rollback-all"/);
  });
});

describe('spec.maintenanceWindows', () => {
  it('absent: none (always open); timeZone defaults to UTC; unquoted times read as strings', () => {
    assert.deepEqual(parseRunbook(MINIMAL).spec.maintenanceWindows, []);
    const windows = parseRunbook(
      withSpec('  maintenanceWindows:\n    - { days: [sat, sun], start: 22:00, end: 04:30 }'),
    ).spec.maintenanceWindows;
    assert.deepEqual(windows, [{ days: ['sat', 'sun'], start: '22:00', end: '04:30', timeZone: 'UTC' }]);
  });

  it('accepts an IANA zone and "24:00" as the end of the day', () => {
    const [window] = parseRunbook(
      withSpec(
        '  maintenanceWindows:\n    - { days: [mon], start: "00:00", end: "24:00", timeZone: America/New_York }',
      ),
    ).spec.maintenanceWindows;
    assert.equal(window?.timeZone, 'America/New_York');
    assert.equal(minutesOfDay('24:00'), 1440);
    assert.equal(minutesOfDay('02:30'), 150);
  });

  it('refuses bad days, times, zones and empty windows, naming the field', () => {
    const at = (window: string, field: string) =>
      issueAt(withSpec(`  maintenanceWindows:\n    - ${window}`), `spec.maintenanceWindows[0].${field}`);
    assert.match(at('{ days: [], start: "01:00", end: "02:00" }', 'days').message, /at least one day/);
    assert.match(at('{ days: [mon, tue, mon], start: "01:00", end: "02:00" }', 'days[2]').message, /already listed/);
    assert.match(at('{ days: [monday], start: "01:00", end: "02:00" }', 'days[0]').message, /must be "mon" or/);
    assert.match(at('{ days: [mon], start: "1:00", end: "02:00" }', 'start').message, /HH:MM on a 24-hour clock/);
    assert.match(at('{ days: [mon], start: "24:00", end: "02:00" }', 'start').message, /is not a time/);
    assert.match(at('{ days: [mon], start: "01:00", end: "23:60" }', 'end').message, /is not a time/);
    assert.match(at('{ days: [mon], start: "01:00", end: "01:00" }', 'end').message, /window would be empty/);
    const zone = at('{ days: [mon], start: "01:00", end: "02:00", timeZone: Europe/Pariss }', 'timeZone');
    assert.equal(zone.line, 14);
    assert.match(zone.message, /"Europe\/Pariss" is not a known IANA time zone/);
    assert.match(at('{ days: [mon], end: "02:00" }', 'start').message, /required/);
  });
});

describe('spec.prometheusGate', () => {
  it('absent by default; a query and a condition when given', () => {
    assert.equal(parseRunbook(MINIMAL).spec.prometheusGate, undefined);
    const gate = parseRunbook(
      withSpec('  prometheusGate:\n    query: sum(up{job="app"})\n    condition: { op: ">=", value: 10 }'),
    ).spec.prometheusGate;
    assert.deepEqual(gate, { query: 'sum(up{job="app"})', condition: { op: '>=', value: 10 } });
  });

  it('refuses an empty query, an unknown operator, a non-number, and a URL (controller config)', () => {
    const text = (gate: string) => withSpec(`  prometheusGate:\n${gate}`);
    assert.match(
      issueAt(text('    query: " "\n    condition: { op: "<", value: 1 }'), 'spec.prometheusGate.query').message,
      /query is empty/,
    );
    assert.match(
      issueAt(text('    query: up\n    condition: { op: "=", value: 1 }'), 'spec.prometheusGate.condition.op').message,
      /must be "<" or "<=" or ">" or ">=" or "==" or "!="/,
    );
    assert.match(
      issueAt(text('    query: up\n    condition: { op: "<", value: "1" }'), 'spec.prometheusGate.condition.value')
        .message,
      /value must be a number, got the string "1"/,
    );
    assert.match(
      issueAt(
        text('    query: up\n    condition: { op: "<", value: 1 }\n    url: http://p:9090'),
        'spec.prometheusGate.url',
      ).message,
      /unknown key "url"/,
    );
    assert.match(issueAt(text('    query: up'), 'spec.prometheusGate.condition').message, /required/);
  });
});

describe('spec.hooks', () => {
  it('a hook declares the prompts it answers and the exit codes that count as success', () => {
    const { spec } = parseRunbook(
      withSpec(
        '  hooks:\n    pre:\n      - name: fw\n        argv: [/etc/hotswap/hooks/fw]\n        expect: [{ prompt: "Continue? (y/n)", answer: y }]\n        successExitCodes: [0, 3]',
      ),
    );
    assert.deepEqual(spec.hooks.pre[0]?.expect, [{ prompt: 'Continue? (y/n)', answer: 'y' }]);
    assert.deepEqual(spec.hooks.pre[0]?.successExitCodes, [0, 3]);
    const bad = (hook: string, path: string) => issueAt(withSpec(`  hooks:\n    pre:\n      - ${hook}`), path);
    assert.match(
      bad('{ name: fw, argv: [x], expect: [{ prompt: "", answer: y }] }', 'spec.hooks.pre[0].expect[0].prompt').message,
      /must not be empty/,
    );
    assert.match(
      bad('{ name: fw, argv: [x], expect: [{ prompt: p, answer: "y\\n" }] }', 'spec.hooks.pre[0].expect[0].answer')
        .message,
      /no line breaks/,
    );
    bad('{ name: fw, argv: [x], successExitCodes: [256] }', 'spec.hooks.pre[0].successExitCodes[0]');
  });

  it('defaults: no hooks; a hook gets a 60 s timeout and no shell', () => {
    assert.deepEqual(parseRunbook(MINIMAL).spec.hooks, { pre: [], post: [] });
    const hooks = parseRunbook(withSpec('  hooks:\n    pre:\n      - { name: drain, argv: [systemctl, stop, app] }'))
      .spec.hooks;
    assert.deepEqual(hooks, {
      pre: [
        {
          name: 'drain',
          argv: ['systemctl', 'stop', 'app'],
          timeoutSeconds: 60,
          shell: false,
          expect: [],
          successExitCodes: [0],
        },
      ],
      post: [],
    });
  });

  it('a shell script runs only with shell: true, as [sh, -c, script]', () => {
    const hooks = parseRunbook(
      withSpec('  hooks:\n    post:\n      - { name: check, shell: true, argv: [sh, -c, "a | b"], timeoutSeconds: 5 }'),
    ).spec.hooks;
    assert.deepEqual(hooks.post[0], {
      name: 'check',
      argv: ['sh', '-c', 'a | b'],
      timeoutSeconds: 5,
      shell: true,
      expect: [],
      successExitCodes: [0],
    });
  });

  it('refuses a command string, a hidden shell and a malformed shell form, saying what to write', () => {
    const at = (hook: string, field: string) =>
      issueAt(withSpec(`  hooks:\n    pre:\n      - ${hook}`), `spec.hooks.pre[0].${field}`);
    const string = at('{ name: drain, argv: "systemctl stop app" }', 'argv');
    assert.deepEqual([string.line, string.column], [15, 30]);
    assert.match(string.message, /argv is a string: give a list of arguments/);
    assert.match(string.message, /set shell: true and write argv: \[sh, -c, "<script>"\]/);
    assert.match(
      at('{ name: drain, shell: true, argv: "systemctl stop app" }', 'argv').message,
      /argv: \[sh, -c, "<script>"\]/,
    );
    assert.match(
      at('{ name: drain, argv: [bash, -c, "a | b"] }', 'argv').message,
      /runs a shell script: say so with shell: true/,
    );
    assert.match(at('{ name: drain, argv: [/bin/sh, -c, "x"] }', 'argv').message, /shell: true/);
    for (const argv of ['[bash, -c, x]', '[sh, -c]', '[sh, -c, ""]', '[sh, -c, x, y]', '[sh, x]']) {
      assert.match(
        at(`{ name: drain, shell: true, argv: ${argv} }`, 'argv').message,
        /with shell: true, argv must be exactly \[sh, -c, "<script>"\]/,
        argv,
      );
    }
    assert.match(at('{ name: drain, argv: [] }', 'argv').message, /argv is empty/);
    assert.match(at('{ name: drain, argv: [x, 1] }', 'argv[1]').message, /each argument must be a string/);
    assert.match(at('{ name: drain, argv: [x], shell: "yes" }', 'shell').message, /true or false/);
    assert.match(at('{ name: drain, argv: [x], timeoutSeconds: 0 }', 'timeoutSeconds').message, /greater than 0/);
    assert.match(at('{ name: "Drain Now", argv: [x] }', 'name').message, /whitespace/);
    assert.match(at('{ argv: [x] }', 'name').message, /required/);
  });

  it('hook names are unique within a list', () => {
    const issue = issueAt(
      withSpec('  hooks:\n    pre:\n      - { name: a, argv: [x] }\n      - { name: a, argv: [y] }'),
      'spec.hooks.pre[1].name',
    );
    assert.match(issue.message, /hook "a" is already listed at \[0\]/);
  });
});

describe('validated runbooks stay valid input', () => {
  it('a runbook using every new section validates again as it is (what the controller sends agents)', () => {
    const text = withSpec(
      [
        '  hosts: { selector: { matchLabels: { rack: r1 } } }',
        '  strategy: { canary: 2, maxUnavailable: "20%", domainCap: { label: rack, max: 1 } }',
        '  slo: { percentile: 90 }',
        '  failurePolicy: rollback-all',
        '  maintenanceWindows: [{ days: [fri], start: "22:00", end: "02:00", timeZone: Asia/Tokyo }]',
        '  prometheusGate: { query: up, condition: { op: "==", value: 1 } }',
        '  hooks: { pre: [{ name: a, argv: [x] }], post: [{ name: b, shell: true, argv: [sh, -c, y] }] }',
      ].join('\n'),
    );
    const runbook = parseRunbook(text);
    assert.deepEqual(validateRunbook(JSON.parse(JSON.stringify(runbook))), runbook);
  });
});
