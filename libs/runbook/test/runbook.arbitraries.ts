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
export const hostsInputArb = fc.record({ names: fc.uniqueArray(hostNameArb, { minLength: 1, maxLength: 5 }) });

export const specInputArb = fc.record(
  {
    modules: modulesInputArb,
    devices: devicesInputArb,
    deadlines: deadlinesInputArb,
    blockedUnbind: blockedUnbindInputArb,
    recovery: recoveryInputArb,
    hosts: hostsInputArb,
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
      ...(spec.hosts === undefined ? {} : { hosts: { names: [...spec.hosts.names] } }),
    },
  };
}
