/**
 * Cross-reference checks of a scenario whose shape is already valid: names resolve, nothing
 * is declared twice, and the boot state is one a real kernel could be in (a bound device's
 * driver module is loaded, a process opens a node that exists).
 */

type Path = (string | number)[];
export interface ScenarioIssue {
  readonly path: Path;
  readonly message: string;
}

/** The parts of a scenario the checks read (structural, so this file needs no schema import). */
interface ScenarioRefs {
  modules: readonly { name: string; file?: string | undefined; dependsOn: readonly string[]; builtin: boolean }[];
  moduleFiles: readonly { module: string; file: string; dependsOn: readonly string[]; default: boolean }[];
  drivers: readonly { name: string; module: string; bus: string }[];
  devices: readonly {
    bus: string;
    id: string;
    driver: string;
    bound: boolean;
    node: { path: string; major: number; minor: number };
    fopsOwner: 'driver' | 'subsystem';
    fopsModule?: string | undefined;
  }[];
  processes: readonly { pid?: number | undefined; opens: readonly { path: string }[] }[];
  faults: readonly (
    | { kind: 'unbind-hangs'; device: string; bus?: string | undefined }
    | { kind: 'probe-fails'; device: string; bus?: string | undefined }
    | { kind: 'load-fails'; module: string; file?: string | undefined }
    | { kind: 'unload-fails'; module: string }
  )[];
}

export function checkScenarioReferences(s: ScenarioRefs): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  const add = (path: Path, message: string) => issues.push({ path, message });
  const boot = new Map(s.modules.map((m) => [m.name, m]));
  const known = new Set([...boot.keys(), ...s.moduleFiles.map((f) => f.module)]);

  checkModules(s, boot, known, add);
  checkDevices(s, boot, known, add);

  const bootNodes = new Set(s.devices.filter((d) => d.bound).map((d) => d.node.path));
  const pids = new Set<number>();
  s.processes.forEach((p, i) => {
    if (p.pid !== undefined && pids.has(p.pid)) add(['processes', i, 'pid'], `pid ${p.pid} is used twice`);
    if (p.pid !== undefined) pids.add(p.pid);
    p.opens.forEach((o, j) => {
      if (!bootNodes.has(o.path))
        add(['processes', i, 'opens', j], `${o.path} is not a node of a device bound at boot`);
    });
  });

  s.faults.forEach((f, i) => {
    if (f.kind === 'unbind-hangs' || f.kind === 'probe-fails') {
      const matches = s.devices.filter((d) => d.id === f.device && (f.bus === undefined || d.bus === f.bus));
      if (matches.length === 0) add(['faults', i, 'device'], `unknown device "${f.device}"`);
      if (matches.length > 1) add(['faults', i, 'bus'], `device "${f.device}" exists on several buses: name the bus`);
    } else {
      if (!known.has(f.module)) add(['faults', i, 'module'], `unknown module "${f.module}"`);
      if (f.kind === 'load-fails' && f.file !== undefined && !filesOf(s, f.module).includes(f.file))
        add(['faults', i, 'file'], `${f.file} is not a file of module ${f.module}`);
    }
  });
  return issues;
}

function checkModules(
  s: ScenarioRefs,
  boot: ReadonlyMap<string, ScenarioRefs['modules'][number]>,
  known: ReadonlySet<string>,
  add: (path: Path, message: string) => void,
): void {
  const seen = new Set<string>();
  const files = new Map<string, string>();
  const claimFile = (file: string, path: Path) => {
    const other = files.get(file);
    if (other !== undefined) add(path, `${file} is already declared at ${other}`);
    else files.set(file, path.join('.'));
  };
  s.modules.forEach((m, i) => {
    if (seen.has(m.name)) add(['modules', i, 'name'], `module ${m.name} is declared twice`);
    seen.add(m.name);
    if (m.builtin && m.file !== undefined) add(['modules', i, 'file'], 'a builtin module has no file');
    if (m.builtin && m.dependsOn.length > 0) add(['modules', i, 'dependsOn'], 'a builtin module has no dependencies');
    if (!m.builtin && m.file === undefined) add(['modules', i, 'file'], 'required (unless builtin: true)');
    if (m.file !== undefined) claimFile(m.file, ['modules', i, 'file']);
    m.dependsOn.forEach((d, j) => {
      if (!boot.has(d))
        add(['modules', i, 'dependsOn', j], `${d} is not loaded at boot (a loaded module's dependencies are)`);
    });
  });
  const defaults = new Set<string>();
  s.moduleFiles.forEach((f, i) => {
    claimFile(f.file, ['moduleFiles', i, 'file']);
    if (boot.get(f.module)?.builtin) add(['moduleFiles', i, 'module'], `${f.module} is builtin: it has no files`);
    f.dependsOn.forEach((d, j) => {
      if (!known.has(d)) add(['moduleFiles', i, 'dependsOn', j], `unknown module "${d}"`);
    });
    if (f.default && defaults.has(f.module))
      add(['moduleFiles', i, 'default'], `${f.module} already has a default file`);
    if (f.default) defaults.add(f.module);
  });
  const cycle = findDependencyCycle(s);
  if (cycle) add(['modules'], `dependency cycle: ${cycle.join(' -> ')}`);
}

function checkDevices(
  s: ScenarioRefs,
  boot: ReadonlyMap<string, ScenarioRefs['modules'][number]>,
  known: ReadonlySet<string>,
  add: (path: Path, message: string) => void,
): void {
  const drivers = new Set<string>();
  s.drivers.forEach((d, i) => {
    if (drivers.has(`${d.bus}/${d.name}`))
      add(['drivers', i, 'name'], `driver ${d.name} is declared twice on bus ${d.bus}`);
    drivers.add(`${d.bus}/${d.name}`);
    if (!known.has(d.module)) add(['drivers', i, 'module'], `unknown module "${d.module}"`);
  });
  const ids = new Set<string>();
  const paths = new Set<string>();
  const rdevs = new Set<string>();
  s.devices.forEach((d, i) => {
    const at = (...rest: Path): Path => ['devices', i, ...rest];
    if (ids.has(`${d.bus}/${d.id}`)) add(at('id'), `device ${d.id} is declared twice on bus ${d.bus}`);
    ids.add(`${d.bus}/${d.id}`);
    if (paths.has(d.node.path)) add(at('node', 'path'), `${d.node.path} is the node of another device`);
    paths.add(d.node.path);
    const rdev = `${d.node.major}:${d.node.minor}`;
    if (rdevs.has(rdev)) add(at('node', 'minor'), `device number ${rdev} is used by another device`);
    rdevs.add(rdev);
    const driver = s.drivers.find((x) => x.name === d.driver && x.bus === d.bus);
    if (!driver) add(at('driver'), `no driver "${d.driver}" on bus ${d.bus}`);
    else if (d.bound && !boot.has(driver.module))
      add(at('bound'), `bound at boot, but driver module ${driver.module} is not loaded at boot`);
    if (d.fopsOwner === 'subsystem' && d.fopsModule === undefined)
      add(at('fopsModule'), 'required when fopsOwner is subsystem');
    if (d.fopsOwner === 'driver' && d.fopsModule !== undefined)
      add(at('fopsModule'), 'only with fopsOwner: subsystem (the driver module owns the fops)');
    if (d.fopsModule !== undefined && !known.has(d.fopsModule))
      add(at('fopsModule'), `unknown module "${d.fopsModule}"`);
    else if (d.fopsModule !== undefined && d.bound && !boot.has(d.fopsModule))
      add(at('fopsModule'), `bound at boot, but fops module ${d.fopsModule} is not loaded at boot`);
  });
}

function filesOf(s: ScenarioRefs, module: string): string[] {
  const boot = s.modules.filter((m) => m.name === module && m.file !== undefined).map((m) => m.file as string);
  return [...boot, ...s.moduleFiles.filter((f) => f.module === module).map((f) => f.file)];
}

/** A cycle in "module -> any of its files' dependencies", or null. */
function findDependencyCycle(s: ScenarioRefs): string[] | null {
  const deps = new Map<string, Set<string>>();
  const edge = (from: string, to: readonly string[]) => {
    const set = deps.get(from) ?? new Set<string>();
    to.forEach((t) => set.add(t));
    deps.set(from, set);
  };
  s.modules.forEach((m) => edge(m.name, m.dependsOn));
  s.moduleFiles.forEach((f) => edge(f.module, f.dependsOn));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'visiting') return [...chain.slice(chain.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const d of deps.get(name) ?? []) {
      const found = visit(d, [...chain, name]);
      if (found) return found;
    }
    state.set(name, 'done');
    return null;
  };
  for (const name of deps.keys()) {
    const found = visit(name, []);
    if (found) return found;
  }
  return null;
}
