import type { DeviceQuery, KernelPort, LoadSpec, LoadedModule } from '@hotswap/kernel';
import type { HostInspection } from '@hotswap/swap';
import type { HostFacts } from '../kernel/host-facts.js';

export interface InspectionRequest {
  readonly devices: DeviceQuery;
  readonly modules: readonly string[];
  readonly loads: readonly LoadSpec[];
}

/**
 * Preflight's reading of the host, shared by the swap and the dry run: the devices and their
 * nodes' classes, the stack and every loaded module it depends on, the load targets, who holds
 * the nodes, and the host-level refusals and notes. Reads only.
 */
export async function inspectHost(
  port: KernelPort,
  facts: HostFacts | null,
  request: InspectionRequest,
): Promise<HostInspection> {
  const devices = await port.findDevices(request.devices);
  const nodeClasses = await Promise.all(devices.map((d) => port.classifyNodes({ bus: d.bus, id: d.id })));
  const modules = await Promise.all(request.modules.map((m) => port.module(m)));
  const dependencies = await removableDependencies(facts, modules, await dependenciesOf(port, modules));
  const targets = await Promise.all(request.loads.map((l) => port.resolveTarget(l)));
  const rdevs = [...new Set(devices.flatMap((d) => d.nodes.map((n) => n.rdev)))];
  const holders = rdevs.length > 0 ? await port.census(rdevs) : [];
  const host = facts ? await facts.preflight({ devices, targets }) : { refusals: [], notes: [] };
  return { devices, nodeClasses, modules, dependencies, targets, holders, ...host };
}

/**
 * `modprobe -r` only takes along what modules.dep names as a dependency of a module it removes:
 * where the host's module tool answers for every loaded stack module, a loaded dependency it does
 * not name stays (a module loaded from a file outside the module tree, say). Without an answer,
 * the loaded modules' own dependency links decide.
 */
async function removableDependencies(
  facts: HostFacts | null,
  stack: readonly (LoadedModule | null)[],
  dependencies: LoadedModule[],
): Promise<LoadedModule[]> {
  if (!facts) return dependencies;
  const named = await Promise.all(stack.flatMap((m) => (m ? [facts.modprobeDependencies(m.name)] : [])));
  if (named.some((n) => n === null)) return dependencies;
  const removable = new Set(named.flatMap((n) => n ?? []));
  return dependencies.filter((d) => removable.has(d.name));
}

/** Every loaded module the stack depends on, directly or through others (what `modprobe -r` may take along). */
async function dependenciesOf(port: KernelPort, stack: readonly (LoadedModule | null)[]): Promise<LoadedModule[]> {
  const seen = new Set(stack.flatMap((m) => (m ? [m.name] : [])));
  const found: LoadedModule[] = [];
  const queue = stack.flatMap((m) => m?.dependsOn ?? []);
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const mod = await port.module(name);
    if (!mod) continue;
    found.push(mod);
    queue.push(...mod.dependsOn);
  }
  return found;
}
