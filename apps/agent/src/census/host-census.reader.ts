import type { CensusDevice, CensusTarget, HostCensus, ModuleState } from '@hotswap/contracts';
import type { KernelPort, LoadSpec } from '@hotswap/kernel';
import type { CensusRequest } from '@hotswap/runbook';
import { summarizeHolder } from '@hotswap/swap';
import { readModuleState } from './module-state.reader.js';

/** The stack named plus the modules that depend on it: a bound, so a cyclic answer cannot loop. */
const MAX_STACK = 32;

/**
 * A live census of one host, read-only: the devices bound to the driver, every process holding
 * one of their nodes (files or mappings), the module stack (the modules named, each preceded by
 * the modules that depend on it, so the list reads in unload order) and what each target would
 * resolve to. Nothing is loaded, unbound or signalled.
 */
export async function readHostCensus(
  port: KernelPort,
  hostId: string,
  request: CensusRequest,
  now: () => number = Date.now,
): Promise<HostCensus> {
  const bound = await port.findDevices(request.devices);
  const devices: CensusDevice[] = bound.map((device) => ({
    bus: device.bus,
    id: device.id,
    driver: device.driver,
    nodes: device.nodes.map((node) => ({ path: node.path, rdev: node.rdev })),
  }));
  const rdevs = [...new Set(bound.flatMap((device) => device.nodes.map((node) => node.rdev)))];
  const holders = rdevs.length === 0 ? [] : await port.census(rdevs);
  return {
    v: 1,
    hostId,
    at: now(),
    devices,
    modules: await moduleStack(
      port,
      request.modules.map((module) => module.name),
    ),
    holders: holders.map(summarizeHolder),
    targets: await Promise.all(
      request.modules.flatMap((module) =>
        module.target ? [resolve(port, loadSpecOf(module.name, module.target))] : [],
      ),
    ),
  };
}

async function moduleStack(port: KernelPort, names: readonly string[]): Promise<ModuleState[]> {
  const stack: ModuleState[] = [];
  const seen = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    if (seen.has(name) || seen.size >= MAX_STACK) return;
    seen.add(name);
    const state = await readModuleState(port, name);
    for (const holder of state.holders) await visit(holder);
    stack.push(state);
  };
  for (const name of names) await visit(name);
  return stack;
}

type Target = NonNullable<CensusRequest['modules'][number]['target']>;

function loadSpecOf(module: string, target: Target): LoadSpec {
  return 'file' in target
    ? { module, file: target.file, params: target.params }
    : { module, version: target.version, params: target.params };
}

async function resolve(port: KernelPort, spec: LoadSpec): Promise<CensusTarget> {
  try {
    const { module, file, version, srcversion } = await port.resolveTarget(spec);
    return { module, file, version, srcversion };
  } catch (error) {
    return { module: spec.module, error: (error as Error).message };
  }
}
