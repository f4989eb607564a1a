import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseRunbook, RunbookValidationError, validateRunbook, type RunbookIssue } from '../src/index.js';
import {
  DEADLINE_KEYS,
  moduleFileArb,
  runbookInputArb,
  secondsArb,
  versionArb,
  withDefaults,
  type RunbookInput,
} from './runbook.arbitraries.js';

const issuesOf = (run: () => unknown): readonly RunbookIssue[] => {
  try {
    run();
  } catch (error) {
    if (error instanceof RunbookValidationError) return error.issues;
    throw error;
  }
  assert.fail('expected a RunbookValidationError');
};

describe('runbook properties', () => {
  it('every generated valid runbook validates, with defaults applied', () => {
    fc.assert(
      fc.property(runbookInputArb, (input) => {
        assert.deepEqual(validateRunbook(structuredClone(input)), withDefaults(input));
      }),
      { numRuns: 300 },
    );
  });

  it('parses from YAML and from JSON text to the same value', () => {
    fc.assert(
      fc.property(runbookInputArb, (input) => {
        const expected = withDefaults(input);
        assert.deepEqual(parseRunbook(stringify(input)), expected);
        assert.deepEqual(parseRunbook(JSON.stringify(input, null, 2)), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips: validated → YAML stringify → parse gives the same value', () => {
    fc.assert(
      fc.property(runbookInputArb, (input) => {
        const runbook = validateRunbook(input);
        assert.deepEqual(parseRunbook(stringify(runbook)), runbook);
      }),
      { numRuns: 300 },
    );
  });
});

/** A change that breaks exactly one field, and the path an issue must name. */
interface Mutation {
  readonly label: string;
  readonly apply: (input: Record<string, unknown>) => string;
}

type Json = Record<string, unknown>;
const spec = (input: Json): Json => input['spec'] as Json;
const modules = (input: Json): Json[] => spec(input)['modules'] as Json[];
const pick = <T>(items: readonly T[], n: number): [T, number] => {
  const index = n % items.length;
  return [items[index] as T, index];
};

const badModuleNameArb = fc.oneof(
  fc.constantFrom('..', '../mlx5_core', 'mlx5_core/..', 'a/b', 'mlx5 core', 'mlx5_core ', '\tmlx5', 'a\nb', '-r'),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/).map((name) => `../${name}`),
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,10}$/),
      fc.constantFrom(' ', '\t', '\u00a0'),
      fc.stringMatching(/^[A-Za-z0-9_-]{0,10}$/),
    )
    .map(([a, space, b]) => a + space + b),
);

/** Breaks one field of the rollout settings (strategy, SLO, policy, windows, gate, hooks, selector). */
const settingsMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .constantFrom<[string, unknown]>(
      ['canary', -1],
      ['canary', 1.5],
      ['maxUnavailable', 0],
      ['maxUnavailable', '0%'],
      ['maxUnavailable', '101%'],
      ['maxUnavailable', 'half'],
      ['maxUnavailable', true],
      ['pauseBetweenWavesSeconds', -5],
    )
    .map(([key, value]): Mutation => ({
      label: `strategy.${key}: ${JSON.stringify(value)}`,
      apply: (input) => {
        const strategy = (spec(input)['strategy'] ??= {}) as Json;
        strategy[key] = value;
        return `spec.strategy.${key}`;
      },
    })),
  fc
    .constantFrom<[string, unknown]>(
      ['percentile', 0],
      ['percentile', 101],
      ['recoverySeconds', 0],
      ['maxNotRecovered', -1],
      ['maxNotRecovered', 'none'],
    )
    .map(([key, value]): Mutation => ({
      label: `slo.${key}: ${JSON.stringify(value)}`,
      apply: (input) => {
        const slo = (spec(input)['slo'] ??= {}) as Json;
        slo[key] = value;
        return `spec.slo.${key}`;
      },
    })),
  fc.constantFrom('rollback', 'PAUSE', 'stop').map((policy): Mutation => ({
    label: `failurePolicy: ${policy}`,
    apply: (input) => {
      spec(input)['failurePolicy'] = policy;
      return 'spec.failurePolicy';
    },
  })),
  fc
    .constantFrom<[string, unknown]>(
      ['start', '7:00'],
      ['start', '24:00'],
      ['end', '12:60'],
      ['timeZone', 'Mars/Olympus'],
      ['timeZone', 'CEST+2'],
      ['days', []],
    )
    .map(([key, value]): Mutation => ({
      label: `maintenance window ${key}: ${JSON.stringify(value)}`,
      apply: (input) => {
        const windows = (spec(input)['maintenanceWindows'] ??= []) as Json[];
        if (windows.length === 0) windows.push({ days: ['mon'], start: '01:00', end: '02:00' });
        (windows[0] as Json)[key] = value;
        return `spec.maintenanceWindows[0].${key}`;
      },
    })),
  fc.constantFrom('systemctl stop app', 'echo hi | tee x').map((command): Mutation => ({
    label: `hook argv as a string: ${command}`,
    apply: (input) => {
      const hooks = (spec(input)['hooks'] ??= {}) as Json;
      const pre = (hooks['pre'] ??= []) as Json[];
      pre.unshift({ name: 'broken-hook', argv: command });
      const names = pre.map((hook) => hook['name']);
      if (names.indexOf('broken-hook') !== names.lastIndexOf('broken-hook')) pre.splice(1);
      return 'spec.hooks.pre[0].argv';
    },
  })),
  fc.constantFrom('Rack', 'a/b', '-x').map((key): Mutation => ({
    label: `selector label key ${JSON.stringify(key)}`,
    apply: (input) => {
      spec(input)['hosts'] = { selector: { matchLabels: { [key]: 'v1' } } };
      return `spec.hosts.selector.matchLabels${/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`;
    },
  })),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  settingsMutationArb,
  fc.tuple(fc.nat(), badModuleNameArb).map(([n, bad]): Mutation => ({
    label: `module name ${JSON.stringify(bad)}`,
    apply: (input) => {
      const [step, index] = pick(modules(input), n);
      step['name'] = bad;
      return `spec.modules[${index}].name`;
    },
  })),
  fc
    .tuple(
      fc.constantFrom(...DEADLINE_KEYS),
      fc.oneof(
        secondsArb.map((s) => -s),
        fc.constant(0),
      ),
    )
    .map(([key, seconds]): Mutation => ({
      label: `${key}: ${seconds}`,
      apply: (input) => {
        const deadlines = (spec(input)['deadlines'] ??= {}) as Json;
        deadlines[key] = seconds;
        return `spec.deadlines.${key}`;
      },
    })),
  fc.tuple(fc.nat(), versionArb, moduleFileArb).map(([n, version, file]): Mutation => ({
    label: 'both version and file',
    apply: (input) => {
      const [step, index] = pick(modules(input), n);
      step['target'] = { ...(step['target'] as Json), version, file };
      return `spec.modules[${index}].target`;
    },
  })),
  fc
    .tuple(fc.nat(), fc.constantFrom('../x.ko', '/opt/../x.ko', '/opt/x y.ko', 'x.ko', '/opt/x.so', '/opt//x.ko'))
    .map(([n, file]): Mutation => ({
      label: `module file ${JSON.stringify(file)}`,
      apply: (input) => {
        const [step, index] = pick(modules(input), n);
        const { version: _version, ...rest } = step['target'] as Json;
        step['target'] = { ...rest, file };
        return `spec.modules[${index}].target.file`;
      },
    })),
  fc.tuple(fc.nat(), fc.nat(), fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,15}$/)).map(([where, n, key]): Mutation => ({
    label: `unknown key ${key}`,
    apply: (input) => {
      const places: [string, () => Json][] = [
        ['', () => input],
        ['metadata', () => input['metadata'] as Json],
        ['spec', () => spec(input)],
        ['spec.devices', () => spec(input)['devices'] as Json],
        ['spec.deadlines', () => (spec(input)['deadlines'] ??= {}) as Json],
        ['spec.blockedUnbind', () => (spec(input)['blockedUnbind'] ??= {}) as Json],
        ['spec.recovery', () => (spec(input)['recovery'] ??= {}) as Json],
        ['spec.hosts', () => (spec(input)['hosts'] ??= { names: ['host-a'] }) as Json],
        ['spec.strategy', () => (spec(input)['strategy'] ??= {}) as Json],
        ['spec.slo', () => (spec(input)['slo'] ??= {}) as Json],
        ['spec.hooks', () => (spec(input)['hooks'] ??= {}) as Json],
        ['spec.modules[i]', () => pick(modules(input), n)[0]],
        ['spec.modules[i].target', () => pick(modules(input), n)[0]['target'] as Json],
      ];
      const [[place, object]] = pick(places, where);
      const target = object();
      const unknown = Object.hasOwn(target, key) || KNOWN_KEYS.has(key) ? `${key}X` : key;
      target[unknown] = 1;
      const at = place.replace('[i]', `[${pick(modules(input), n)[1]}]`);
      return at === '' ? unknown : `${at}.${unknown}`;
    },
  })),
);

/** Keys an unknown-key mutation must not pick: they are valid somewhere it may land. */
const KNOWN_KEYS = new Set([
  'names',
  'selector',
  'version',
  'file',
  'params',
  'canary',
  'maxUnavailable',
  'domainCap',
  'pauseBetweenWavesSeconds',
  'percentile',
  'recoverySeconds',
  'maxNotRecovered',
  'pre',
  'post',
]);

describe('runbook mutations', () => {
  it('a runbook with one broken field fails with an issue on that field, with its line in YAML', () => {
    fc.assert(
      fc.property(runbookInputArb, mutationArb, (valid: RunbookInput, mutation) => {
        const input = structuredClone(valid) as unknown as Json;
        const path = mutation.apply(input);

        const issues = issuesOf(() => validateRunbook(input));
        const issue = issues.find((candidate) => candidate.path === path);
        assert.ok(issue, `${mutation.label}: no issue at ${path} in ${JSON.stringify(issues)}`);
        assert.equal(issue.line, undefined);

        const located = issuesOf(() => parseRunbook(stringify(input))).find((candidate) => candidate.path === path);
        assert.ok(located, `${mutation.label}: no located issue at ${path}`);
        assert.ok(
          located.line !== undefined && located.line >= 1 && located.column !== undefined && located.column >= 1,
        );
      }),
      { numRuns: 500 },
    );
  });
});
