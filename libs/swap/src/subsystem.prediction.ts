import type { DevicePrediction, ModulePin, PredictionSource, SwapPrediction } from '@hotswap/contracts';
import {
  behavioursForClass,
  subsystemBehaviour,
  type BoundDevice,
  type ClassifiedNode,
  type FopsOwner,
  type Holder,
  type LoadedModule,
  type RevokeScheme,
  type SubsystemBehaviour,
} from '@hotswap/kernel';
import type { SubsystemOverride } from '@hotswap/runbook';
import { identitiesOf, identityOf, type FileIdentity } from './file-identity.js';
import { inferFopsOwner, type FopsInference } from './fops-owner.inference.js';

/** What preflight saw, from which the swap's behaviour is predicted (no I/O here). */
export interface PredictionInput {
  /** The stack, in unload order. */
  readonly modules: readonly string[];
  /** The driver the devices are bound to (its module is the one that owns driver fops). */
  readonly driver: string;
  readonly devices: readonly BoundDevice[];
  /** Per device (same order): its nodes with their sysfs class. */
  readonly nodeClasses: readonly (readonly ClassifiedNode[])[];
  /** Per stack module (same order): as loaded now, or null. */
  readonly loaded: readonly (LoadedModule | null)[];
  readonly holders: readonly Holder[];
  readonly override?: SubsystemOverride | undefined;
}

export interface Predictions {
  readonly devices: readonly DevicePrediction[];
  readonly predictions: readonly SwapPrediction[];
  readonly pins: readonly ModulePin[];
}

interface Sourced<T> {
  readonly value: T | null;
  readonly source: PredictionSource;
}

/**
 * Predicts, per device, whether the unbind returns or blocks and what zombie FDs fail with, and,
 * for the stack, whether it can unload while zombie FDs remain. Three sources, each overriding
 * the one before: the subsystem table (by the nodes' sysfs class), what the host's refcounts
 * show (a module whose refcount rises with each open file owns the file operations), and the
 * runbook's `spec.subsystem`. Every prediction says where it comes from; an unknown stays
 * unknown (null) rather than guessed.
 */
export function predictSwap(input: PredictionInput): Predictions {
  const inference = inferFopsOwner(input.loaded, openFilesOnAll(input));
  const devices = input.devices.map((device, i) => predictDevice(input, device, input.nodeClasses[i] ?? [], inference));
  const predictions: SwapPrediction[] = [];
  for (const device of devices) {
    predictions.push(unbindPrediction(device));
    const errno = errnoPrediction(device);
    if (errno) predictions.push(errno);
  }
  const driverModule = inference.module ?? stackModuleOf(input.modules, input.driver);
  predictions.push(unloadPrediction(input, devices, driverModule));
  return {
    devices: devices.map((d) => d.prediction),
    predictions,
    pins: pinsOf(input, devices, inference, driverModule),
  };
}

interface DeviceView {
  readonly prediction: DevicePrediction;
  readonly revoke: Sourced<RevokeScheme>;
  readonly fops: Sourced<FopsOwner>;
  readonly errno: Sourced<string>;
  /** Open files (struct files, not FDs) on the device's nodes now. */
  readonly openFiles: number;
  readonly holderPids: readonly number[];
}

function predictDevice(
  input: PredictionInput,
  device: BoundDevice,
  classified: readonly ClassifiedNode[],
  inference: FopsInference,
): DeviceView {
  const basis: string[] = [];
  const row = tableRow(input.override, classified, inference, basis);
  // What the row's own source warns of (a driver-dependent errno, holders behind an anonymous inode).
  if (row?.caveat) basis.push(`caveat (${row.subsystem}): ${row.caveat}`);
  let revoke: Sourced<RevokeScheme> = row ? { value: row.revokeScheme, source: 'table' } : unknown();
  let fops: Sourced<FopsOwner> = row ? { value: row.fopsOwner, source: 'table' } : unknown();
  let errno: Sourced<string> = row?.predictedErrno ? { value: row.predictedErrno, source: 'table' } : unknown();

  if (inference.owner !== null) {
    if (fops.value !== null && fops.value !== inference.owner) {
      basis.push(`host contradicts the table (fops owner ${fops.value}): going with the host`);
    }
    fops = { value: inference.owner, source: 'host' };
  }
  basis.push(`host: ${inference.reason}`);

  const override = input.override ?? {};
  if (override.revokeScheme) revoke = { value: override.revokeScheme, source: 'runbook' };
  if (override.fopsOwner) fops = { value: override.fopsOwner, source: 'runbook' };
  if (override.errno) errno = { value: override.errno, source: 'runbook' };
  const overridden = (['revokeScheme', 'fopsOwner', 'errno'] as const).filter((k) => override[k] !== undefined);
  if (overridden.length > 0) {
    basis.push(`runbook: spec.subsystem sets ${overridden.map((k) => `${k} ${override[k]}`).join(', ')}`);
  }

  const ids = identitiesOf(device.nodes);
  const holders = input.holders
    .map((h) => ({ holder: h, paths: pathsOn(h, ids), files: openFilesOf(h, ids) }))
    .filter((h) => h.files > 0);
  return {
    prediction: {
      device: subjectOf(device),
      driver: device.driver,
      nodes: nodesOf(device, classified),
      subsystem: row?.subsystem ?? null,
      revokeScheme: revoke.value,
      fopsOwner: fops.value,
      predictedErrno: errno.value,
      holders: holders.map((h) => ({ pid: h.holder.pid, comm: h.holder.comm, paths: h.paths })),
      basis,
    },
    revoke,
    fops,
    errno,
    openFiles: holders.reduce((n, h) => n + h.files, 0),
    holderPids: holders.map((h) => h.holder.pid),
  };
}

/** The table row for the device: the runbook's choice, the only row of its class, or the one the host picks. */
function tableRow(
  override: SubsystemOverride | undefined,
  classified: readonly ClassifiedNode[],
  inference: FopsInference,
  basis: string[],
): SubsystemBehaviour | null {
  if (override?.name) {
    const named = subsystemBehaviour(override.name);
    basis.push(
      named
        ? `runbook: spec.subsystem.name ${override.name} (${named.source})`
        : `runbook: spec.subsystem.name ${override.name} is not in the subsystem table: only its other fields apply`,
    );
    return named ?? null;
  }
  const classes = [...new Set(classified.flatMap((n) => (n.sysfsClass ? [n.sysfsClass] : [])))];
  const rows = [...new Set(classes.flatMap((c) => behavioursForClass(c)))];
  if (rows.length === 1) {
    const row = rows[0] as SubsystemBehaviour;
    basis.push(`table: ${row.subsystem} (class ${classes.join(', ')}; ${row.evidence}: ${row.source})`);
    return row;
  }
  if (rows.length === 0) {
    basis.push(
      classes.length === 0
        ? 'table: no node with a sysfs class, no row applies'
        : `table: no row for class ${classes.join(', ')}`,
    );
    return null;
  }
  const names = rows.map((r) => r.subsystem).join(', ');
  const picked = rows.filter((r) => r.fopsOwner === inference.owner);
  if (picked.length === 1) {
    const row = picked[0] as SubsystemBehaviour;
    basis.push(`table: rows ${names} fit class ${classes.join(', ')}; the host's refcounts pick ${row.subsystem}`);
    return row;
  }
  basis.push(`table: rows ${names} fit class ${classes.join(', ')} and the host cannot tell which applies`);
  return null;
}

function unbindPrediction(d: DeviceView): SwapPrediction {
  const p = d.prediction;
  const base = { kind: 'unbind' as const, subject: p.device, source: d.revoke.source, basis: p.basis.join('; ') };
  if (d.revoke.value === 'wait' && p.holders.length > 0) {
    return {
      ...base,
      expected: 'blocks',
      statement: `unbind of ${p.device} will block while ${holderPhrase(p.holders)} ${plural(p.holders.length, 'holds', 'hold')} ${pathsPhrase(p.holders)}`,
    };
  }
  if (d.revoke.value === 'wait') {
    return {
      ...base,
      expected: 'returns',
      statement: `unbind of ${p.device} will return: it waits for open files, and none is open`,
    };
  }
  if (d.revoke.value === 'revoke') {
    const zombies =
      p.holders.length > 0
        ? `; the ${d.openFiles} open file(s) of ${holderPhrase(p.holders)} become zombie FDs`
        : ' (nothing holds its nodes)';
    return { ...base, expected: 'returns', statement: `unbind of ${p.device} will return at once${zombies}` };
  }
  return {
    ...base,
    expected: null,
    statement: `unknown whether the unbind of ${p.device} returns or blocks: no subsystem row applies; say so in the runbook (spec.subsystem)`,
  };
}

function errnoPrediction(d: DeviceView): SwapPrediction | null {
  const p = d.prediction;
  if (d.revoke.value !== 'revoke' || p.holders.length === 0) return null;
  const base = { kind: 'errno' as const, subject: p.device, source: d.errno.source, basis: p.basis.join('; ') };
  if (d.errno.value === null) {
    return {
      ...base,
      expected: null,
      statement: `calls on the zombie FDs of ${holderPhrase(p.holders)} fail with an errno the driver chooses (no prediction)`,
    };
  }
  return {
    ...base,
    expected: d.errno.value,
    statement: `calls on the zombie FDs of ${holderPhrase(p.holders)} will fail with ${d.errno.value} (predicted: the agent cannot see it)`,
  };
}

/**
 * The stack waits for zombie FDs when the driver owns the file operations of a device whose
 * unbind leaves files open (revoke scheme). A wait-scheme unbind returns only once every file is
 * closed, so it leaves no zombie to wait for.
 */
function unloadPrediction(
  input: PredictionInput,
  devices: readonly DeviceView[],
  module: string | null,
): SwapPrediction {
  const subject = `module ${module ?? input.modules.join(', ')}`;
  const owners = devices.map((d) => d.fops.value);
  const source = strongest(devices.map((d) => d.fops.source));
  const basis = [...new Set(devices.flatMap((d) => d.prediction.basis))].join('; ');
  const base = { kind: 'unload' as const, subject, source, basis };
  const zombieDevices = devices.filter((d) => d.revoke.value !== 'wait' && d.fops.value === 'driver');
  const zombies = zombieDevices.reduce((n, d) => n + d.openFiles, 0);
  if (devices.length > 0 && owners.every((o) => o === 'subsystem')) {
    return {
      ...base,
      expected: 'free',
      statement: `${subject} can unload while zombie FDs remain: open files pin the subsystem's module, not the driver's`,
    };
  }
  if (zombies > 0) {
    const pids = [...new Set(zombieDevices.flatMap((d) => d.holderPids))];
    return {
      ...base,
      expected: 'waits',
      statement: `${subject} cannot unload until ${zombies} zombie FD(s) close (PID${pids.length === 1 ? '' : 's'} ${pids.join(', ')})`,
    };
  }
  if (devices.length > 0 && owners.every((o) => o !== null)) {
    return {
      ...base,
      expected: 'free',
      statement: `${subject} can unload right after the unbind: no file will be left open on its nodes`,
    };
  }
  return {
    ...base,
    expected: null,
    statement: `unknown whether ${subject} can unload while zombie FDs remain: who owns the file operations is unknown`,
  };
}

/** Modules whose refcount open files hold up now, and the processes holding those files. */
function pinsOf(
  input: PredictionInput,
  devices: readonly DeviceView[],
  inference: FopsInference,
  module: string | null,
): ModulePin[] {
  const pinning = devices.filter((d) => d.fops.value === 'driver' && d.openFiles > 0);
  if (module === null || pinning.length === 0) return [];
  const loaded = input.loaded.find((m) => m?.name === module);
  if (!loaded) return [];
  const extraRefs = loaded.refcnt - loaded.holders.length;
  return [
    {
      module,
      refcnt: loaded.refcnt,
      extraRefs,
      pids: [...new Set(pinning.flatMap((d) => d.holderPids))].sort((a, b) => a - b),
      reason:
        inference.module === module
          ? inference.reason
          : `the driver owns the file operations (${pinning[0]?.fops.source}); ${extraRefs} reference(s) beyond dependent modules`,
    },
  ];
}

/** Open files on every device's nodes: what the stack's refcounts are compared with. */
function openFilesOnAll(input: PredictionInput): number {
  const ids = identitiesOf(input.devices.flatMap((d) => d.nodes));
  return input.holders.reduce((n, h) => n + openFilesOf(h, ids), 0);
}

/**
 * Open files (struct file, each one module reference) a process holds on these nodes: its FDs,
 * plus mappings of nodes it holds no FD on (a mapping made from an FD shares that FD's file).
 */
export function openFilesOf(holder: Holder, ids: ReadonlySet<FileIdentity>): number {
  const fds = holder.files.filter((f) => ids.has(identityOf(f)));
  const fdIds = new Set(fds.map(identityOf));
  const mapped = new Set(holder.mappings.map(identityOf).filter((id) => ids.has(id) && !fdIds.has(id)));
  return fds.length + mapped.size;
}

function pathsOn(holder: Holder, ids: ReadonlySet<FileIdentity>): string[] {
  return [...new Set([...holder.files, ...holder.mappings].filter((f) => ids.has(identityOf(f))).map((f) => f.path))];
}

function nodesOf(device: BoundDevice, classified: readonly ClassifiedNode[]): DevicePrediction['nodes'] {
  const nodes = classified.length > 0 ? classified : device.nodes.map((n) => ({ ...n, sysfsClass: null }));
  return nodes.map((n) => ({ path: n.path, rdev: n.rdev, sysfsClass: n.sysfsClass }));
}

/** The stack module named like the driver (mlx5_core drives with mlx5_core), if any. */
function stackModuleOf(modules: readonly string[], driver: string): string | null {
  const norm = (s: string) => s.replace(/-/g, '_');
  return modules.find((m) => norm(m) === norm(driver)) ?? null;
}

const SOURCE_RANK: readonly PredictionSource[] = ['none', 'table', 'host', 'runbook'];
function strongest(sources: readonly PredictionSource[]): PredictionSource {
  return sources.reduce<PredictionSource>(
    (best, s) => (SOURCE_RANK.indexOf(s) > SOURCE_RANK.indexOf(best) ? s : best),
    'none',
  );
}

const unknown = <T>(): Sourced<T> => ({ value: null, source: 'none' });
const subjectOf = (d: { bus: string; id: string }): string => `${d.bus}/${d.id}`;
const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many);

function holderPhrase(holders: readonly { pid: number; comm: string }[]): string {
  const list = holders.map((h) => `${h.pid} (${h.comm})`).join(', ');
  return `${plural(holders.length, 'PID', 'PIDs')} ${list}`;
}

function pathsPhrase(holders: readonly { paths: readonly string[] }[]): string {
  return [...new Set(holders.flatMap((h) => h.paths))].join(', ');
}
