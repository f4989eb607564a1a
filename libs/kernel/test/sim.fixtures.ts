import { FakeClock } from '../src/sim/fake.clock.js';
import type { SimActionEntry, SimActionKind } from '../src/sim/sim-action.log.js';
import { SimKernel } from '../src/sim/sim-kernel.js';
import { validateScenario, type SimScenarioInput } from '../src/sim/sim-scenario.schema.js';

/** Shared scenario pieces and helpers for the simulator's tests (fake clock, no sockets). */

export const timing = { unbindMs: 5, unloadMs: 20, loadMs: 40, probeMs: 20 };

type ProcessInput = NonNullable<SimScenarioInput['processes']>[number];
type FaultInput = NonNullable<SimScenarioInput['faults']>[number];
type DeviceInput = NonNullable<SimScenarioInput['devices']>[number];

export const ignoring = (
  comm: string,
  opens: ProcessInput['opens'],
  extra: Partial<ProcessInput> = {},
): ProcessInput => ({
  comm,
  unit: `${comm}.service`,
  opens,
  onError: { action: 'ignore' },
  ...extra,
});

/** hs_misc 1.0 on platform hs_misc.0 (/dev/hsmisc0, 240:0), driver-owned fops, revoke scheme. */
export function miscScenario(
  processes: ProcessInput[],
  faults: FaultInput[] = [],
  device: Partial<DeviceInput> = {},
): SimScenarioInput {
  return {
    host: 'test-misc',
    seed: 1,
    timing,
    modules: [
      { name: 'hs_core', version: '1.0', srcversion: 'C0RE1', file: '/lib/modules/sim/hs_core.ko' },
      {
        name: 'hs_misc',
        version: '1.0',
        srcversion: 'AAAA1',
        file: '/lib/modules/sim/hs_misc-1.0.ko',
        dependsOn: ['hs_core'],
        params: ['debug=0'],
      },
      { name: 'builtin_x', version: null, builtin: true },
    ],
    moduleFiles: [
      {
        module: 'hs_misc',
        file: '/lib/modules/sim/hs_misc-2.0.ko',
        version: '2.0',
        srcversion: 'BBBB2',
        dependsOn: ['hs_core'],
        default: true,
      },
      {
        module: 'hs_misc',
        file: '/lib/modules/sim/hs_misc-3.0-rc.ko',
        version: '3.0-rc',
        srcversion: 'CCCC3',
        dependsOn: ['hs_core'],
      },
    ],
    drivers: [{ name: 'hs_misc', module: 'hs_misc', bus: 'platform' }],
    devices: [
      {
        bus: 'platform',
        id: 'hs_misc.0',
        driver: 'hs_misc',
        node: { path: '/dev/hsmisc0', major: 240, minor: 0 },
        revoke: 'revoke',
        fopsOwner: 'driver',
        ...device,
      },
    ],
    processes,
    faults,
  };
}

/** hs_rdma 1.0 (depends on hs_ib_core) on pci 0000:03:00.0, subsystem-owned fops (hs_ib_core), revoke. */
export function rdmaScenario(processes: ProcessInput[], faults: FaultInput[] = []): SimScenarioInput {
  return {
    host: 'test-rdma',
    timing,
    modules: [
      { name: 'hs_ib_core', version: '1.0', srcversion: 'IB1', file: '/lib/modules/sim/hs_ib_core.ko' },
      {
        name: 'hs_rdma',
        version: '1.0',
        srcversion: 'RD1',
        file: '/lib/modules/sim/hs_rdma-1.0.ko',
        dependsOn: ['hs_ib_core'],
      },
    ],
    moduleFiles: [
      {
        module: 'hs_rdma',
        file: '/lib/modules/sim/hs_rdma-2.0.ko',
        version: '2.0',
        srcversion: 'RD2',
        dependsOn: ['hs_ib_core'],
        default: true,
      },
    ],
    drivers: [{ name: 'hs_rdma', module: 'hs_rdma', bus: 'pci' }],
    devices: [
      {
        bus: 'pci',
        id: '0000:03:00.0',
        driver: 'hs_rdma',
        node: { path: '/dev/infiniband/uverbs0', major: 231, minor: 192 },
        revoke: 'revoke',
        errno: 'EIO',
        fopsOwner: 'subsystem',
        fopsModule: 'hs_ib_core',
      },
    ],
    processes,
    faults,
  };
}

/** hs_vfio 1.0 on pci 0000:04:00.0 (/dev/vfio/12, 243:12), driver-owned fops, wait scheme. */
export function vfioScenario(processes: ProcessInput[], faults: FaultInput[] = []): SimScenarioInput {
  return {
    host: 'test-vfio',
    timing,
    modules: [{ name: 'hs_vfio', version: '1.0', srcversion: 'VF1', file: '/lib/modules/sim/hs_vfio-1.0.ko' }],
    moduleFiles: [
      { module: 'hs_vfio', file: '/lib/modules/sim/hs_vfio-2.0.ko', version: '2.0', srcversion: 'VF2', default: true },
    ],
    drivers: [{ name: 'hs_vfio', module: 'hs_vfio', bus: 'pci' }],
    devices: [
      {
        bus: 'pci',
        id: '0000:04:00.0',
        driver: 'hs_vfio',
        node: { path: '/dev/vfio/12', major: 243, minor: 12 },
        revoke: 'wait',
        fopsOwner: 'driver',
      },
    ],
    processes,
    faults,
  };
}

export const MISC = { bus: 'platform', id: 'hs_misc.0' } as const;
export const RDMA = { bus: 'pci', id: '0000:03:00.0' } as const;
export const VFIO = { bus: 'pci', id: '0000:04:00.0' } as const;

export function boot(input: SimScenarioInput): { kernel: SimKernel; clock: FakeClock } {
  const clock = new FakeClock();
  return { kernel: new SimKernel(validateScenario(input), { clock }), clock };
}

export interface Tracked<T> {
  state: 'pending' | 'fulfilled' | 'rejected';
  value?: T;
  error?: unknown;
}

/** Watches a promise without awaiting it (a blocked unbind is still pending after N ms). */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: Tracked<T> = { state: 'pending' };
  promise.then(
    (value) => Object.assign(tracked, { state: 'fulfilled', value }),
    (error: unknown) => Object.assign(tracked, { state: 'rejected', error }),
  );
  return tracked;
}

/** Runs a kernel call to completion on the fake clock (advancing up to `maxMs`). */
export async function settle<T>(clock: FakeClock, promise: Promise<T>, maxMs = 10_000): Promise<T> {
  const tracked = track(promise);
  for (let waited = 0; tracked.state === 'pending' && waited < maxMs; waited += 1) await clock.advance(1);
  if (tracked.state === 'pending') throw new Error(`still pending after ${maxMs} ms`);
  return promise;
}

export function entries(log: readonly SimActionEntry[], kind: SimActionKind, match: Partial<SimActionEntry> = {}) {
  return log.filter(
    (e) =>
      e.kind === kind && Object.entries(match).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v),
  );
}

export function only(log: readonly SimActionEntry[], kind: SimActionKind, match: Partial<SimActionEntry> = {}) {
  const found = entries(log, kind, match);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${JSON.stringify(match)}, found ${found.length}`);
  return found[0] as SimActionEntry;
}
