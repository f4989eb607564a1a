import fc from 'fast-check';

/**
 * Generators of valid runbooks as an SRE would write them (optional sections and fields
 * sometimes left out), and the oracle: the same runbook with every default applied, written
 * independently of the schema.
 */

/** Stricter than the patterns alone: no '..' anywhere, no leading '-' (it would read as an option). */
const tame = (value: string): boolean => !value.includes('..') && !value.startsWith('-');

export const moduleNameArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,55}$/).filter(tame);
export const versionArb = fc.stringMatching(/^[A-Za-z0-9._+~:-]{1,64}$/).filter(tame);
export const paramArb = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9_]{1,20}$/),
    fc.option(fc.string({ unit: 'grapheme', maxLength: 12 }).filter((value) => !/[\s\p{Cc}]/u.test(value))),
  )
  .map(([name, value]) => (value === null ? name : `${name}=${value}`));

const pathSegmentArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).filter((value) => !/[\s\p{Cc}/]/u.test(value)),
);
export const moduleFileArb = fc
  .tuple(
    fc.array(
      pathSegmentArb.filter((segment) => segment !== '.' && segment !== '..'),
      { maxLength: 4 },
    ),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
    fc.constantFrom('.ko', '.ko.xz', '.ko.zst', '.ko.gz'),
  )
  .map(([dirs, base, suffix]) => `/${[...dirs, base + suffix].join('/')}`);

export const targetInputArb = fc.oneof(
  fc.record({ version: versionArb, params: fc.array(paramArb, { maxLength: 3 }) }, { requiredKeys: ['version'] }),
  fc.record({ file: moduleFileArb, params: fc.array(paramArb, { maxLength: 3 }) }, { requiredKeys: ['file'] }),
);

export const modulesInputArb = fc.uniqueArray(fc.record({ name: moduleNameArb, target: targetInputArb }), {
  minLength: 1,
  maxLength: 6,
  selector: (step) => step.name.replaceAll('-', '_'),
});

const hexIdArb = fc.stringMatching(/^0x[0-9a-fA-F]{4}$/);
export const devicesInputArb = fc.record(
  {
    bus: fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/).filter(tame),
    driver: fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).filter(tame),
    vendor: hexIdArb,
    device: hexIdArb,
  },
  { requiredKeys: ['bus', 'driver'] },
);

export const secondsArb = fc.double({ min: Number.MIN_VALUE, max: 86_400, noNaN: true, noDefaultInfinity: true });
export const DEADLINE_KEYS = ['unbindSeconds', 'zombieCloseSeconds', 'actionSeconds', 'recoveryWatchSeconds'] as const;
export const deadlinesInputArb = fc.record(
  {
    unbindSeconds: secondsArb,
    zombieCloseSeconds: secondsArb,
    actionSeconds: secondsArb,
    recoveryWatchSeconds: secondsArb,
  },
  { requiredKeys: [] },
);
export const blockedUnbindInputArb = fc.record(
  { policy: fc.constantFrom('fail' as const, 'signal' as const), graceSeconds: secondsArb },
  { requiredKeys: [] },
);
export const recoveryInputArb = fc.record(
  { pollMilliseconds: fc.integer({ min: 10, max: 10_000 }) },
  { requiredKeys: [] },
);

export const hostNameArb = fc.stringMatching(/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/).filter(tame);
export const labelKeyArb = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,62}$/).filter(tame);
export const labelValueArb = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/).filter(tame);
export const matchLabelsArb = fc.dictionary(labelKeyArb, labelValueArb, { minKeys: 1, maxKeys: 4 });
export const hostsInputArb = fc.oneof(
  fc.record({ names: fc.uniqueArray(hostNameArb, { minLength: 1, maxLength: 5 }) }),
  fc.record({ selector: fc.record({ matchLabels: matchLabelsArb }) }),
);

export const maxUnavailableArb = fc.oneof(
  fc.integer({ min: 1, max: 1000 }),
  fc.integer({ min: 1, max: 100 }).map((percent) => `${percent}%`),
);
export const strategyInputArb = fc.record(
  {
    canary: fc.integer({ min: 0, max: 50 }),
    maxUnavailable: maxUnavailableArb,
    domainCap: fc.record({ label: labelKeyArb, max: fc.integer({ min: 1, max: 20 }) }),
    pauseBetweenWavesSeconds: fc.double({ min: 0, max: 86_400, noNaN: true, noDefaultInfinity: true }),
  },
  { requiredKeys: [] },
);
export const sloInputArb = fc.record(
  {
    percentile: fc.double({ min: 1, max: 100, noNaN: true, noDefaultInfinity: true }),
    recoverySeconds: secondsArb,
    maxNotRecovered: fc.integer({ min: 0, max: 100 }),
  },
  { requiredKeys: [] },
);
export const failurePolicyArb = fc.constantFrom('pause' as const, 'rollback-host' as const, 'rollback-all' as const);

export const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const clockArb = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([hours, minutes]) => `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`);
export const windowInputArb = fc
  .record(
    {
      days: fc.uniqueArray(fc.constantFrom(...WEEKDAY_NAMES), { minLength: 1, maxLength: 7 }),
      start: clockArb,
      end: fc.oneof(clockArb, fc.constant('24:00')),
      timeZone: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'),
    },
    { requiredKeys: ['days', 'start', 'end'] },
  )
  .filter((window) => window.start !== window.end);
export const prometheusGateInputArb = fc.record({
  query: fc.string({ minLength: 1, maxLength: 40 }).filter((query) => query.trim() !== ''),
  condition: fc.record({
    op: fc.constantFrom('<' as const, '<=' as const, '>' as const, '>=' as const, '==' as const, '!=' as const),
    value: fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => (Object.is(value, -0) ? 0 : value)),
  }),
});
const argArb = fc.string({ maxLength: 12 }).filter((arg) => !arg.includes('\0'));
const plainHookArb = fc
  .record(
    {
      name: fc.stringMatching(/^[a-z0-9]([a-z0-9_-]{0,20}[a-z0-9])?$/),
      argv: fc
        .tuple(fc.stringMatching(/^\/?[a-z][a-z0-9/._-]{0,20}$/), fc.array(argArb, { maxLength: 4 }))
        .map(([program, args]) => [program, ...args]),
      timeoutSeconds: secondsArb,
      shell: fc.constant(false),
    },
    { requiredKeys: ['name', 'argv'] },
  )
  .filter((hook) => !(/(^|\/)[a-z]*sh$/.test(hook.argv[0] ?? '') && hook.argv.includes('-c')));
const shellHookArb = fc.record(
  {
    name: fc.stringMatching(/^[a-z0-9]([a-z0-9_-]{0,20}[a-z0-9])?$/),
    argv: fc
      .string({ minLength: 1, maxLength: 30 })
      .filter((script) => script.trim() !== '' && !script.includes('\0'))
      .map((script) => ['sh', '-c', script]),
    timeoutSeconds: secondsArb,
    shell: fc.constant(true),
  },
  { requiredKeys: ['name', 'argv', 'shell'] },
);
const hookListArb = fc.uniqueArray(fc.oneof(plainHookArb, shellHookArb), {
  maxLength: 3,
  selector: (hook) => hook.name,
});
export const hooksInputArb = fc.record({ pre: hookListArb, post: hookListArb }, { requiredKeys: [] });

export const specInputArb = fc.record(
  {
    modules: modulesInputArb,
    devices: devicesInputArb,
    deadlines: deadlinesInputArb,
    blockedUnbind: blockedUnbindInputArb,
    recovery: recoveryInputArb,
    hosts: hostsInputArb,
    strategy: strategyInputArb,
    slo: sloInputArb,
    failurePolicy: failurePolicyArb,
    maintenanceWindows: fc.array(windowInputArb, { maxLength: 3 }),
    prometheusGate: prometheusGateInputArb,
    hooks: hooksInputArb,
  },
  { requiredKeys: ['modules', 'devices'] },
);

export const runbookInputArb = fc.record({
  apiVersion: fc.constant('hotswap/v1' as const),
  kind: fc.constant('Runbook' as const),
  metadata: fc.record({ name: fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/) }),
  spec: specInputArb,
});
export type RunbookInput = typeof runbookInputArb extends fc.Arbitrary<infer T> ? T : never;

/** The oracle: what the validated runbook must be, defaults applied. */
export function withDefaults(input: RunbookInput): unknown {
  const { spec } = input;
  return {
    apiVersion: input.apiVersion,
    kind: input.kind,
    metadata: { name: input.metadata.name },
    spec: {
      modules: spec.modules.map((step) => ({
        name: step.name,
        target:
          'file' in step.target
            ? { file: step.target.file, params: step.target.params ?? [] }
            : { version: step.target.version, params: step.target.params ?? [] },
      })),
      devices: { ...spec.devices },
      deadlines: {
        unbindSeconds: spec.deadlines?.unbindSeconds ?? 30,
        zombieCloseSeconds: spec.deadlines?.zombieCloseSeconds ?? 60,
        actionSeconds: spec.deadlines?.actionSeconds ?? 60,
        recoveryWatchSeconds: spec.deadlines?.recoveryWatchSeconds ?? 120,
      },
      blockedUnbind: {
        policy: spec.blockedUnbind?.policy ?? 'fail',
        graceSeconds: spec.blockedUnbind?.graceSeconds ?? 10,
      },
      recovery: { pollMilliseconds: spec.recovery?.pollMilliseconds ?? 100 },
      ...(spec.hosts === undefined
        ? {}
        : {
            hosts:
              'names' in spec.hosts
                ? { names: [...spec.hosts.names] }
                : { selector: { matchLabels: { ...spec.hosts.selector.matchLabels } } },
          }),
      strategy: {
        canary: spec.strategy?.canary ?? 1,
        maxUnavailable: spec.strategy?.maxUnavailable ?? 1,
        ...(spec.strategy?.domainCap === undefined ? {} : { domainCap: { ...spec.strategy.domainCap } }),
        pauseBetweenWavesSeconds: spec.strategy?.pauseBetweenWavesSeconds ?? 0,
      },
      slo: {
        percentile: spec.slo?.percentile ?? 95,
        recoverySeconds: spec.slo?.recoverySeconds ?? 30,
        maxNotRecovered: spec.slo?.maxNotRecovered ?? 0,
      },
      failurePolicy: spec.failurePolicy ?? 'pause',
      maintenanceWindows: (spec.maintenanceWindows ?? []).map((window) => ({
        days: [...window.days],
        start: window.start,
        end: window.end,
        timeZone: window.timeZone ?? 'UTC',
      })),
      ...(spec.prometheusGate === undefined
        ? {}
        : { prometheusGate: { query: spec.prometheusGate.query, condition: { ...spec.prometheusGate.condition } } }),
      hooks: {
        pre: (spec.hooks?.pre ?? []).map(hookWithDefaults),
        post: (spec.hooks?.post ?? []).map(hookWithDefaults),
      },
    },
  };
}

function hookWithDefaults(hook: { name: string; argv: string[]; timeoutSeconds?: number; shell?: boolean }): unknown {
  return {
    name: hook.name,
    argv: [...hook.argv],
    timeoutSeconds: hook.timeoutSeconds ?? 60,
    shell: hook.shell ?? false,
    expect: [],
    successExitCodes: [0],
  };
}
