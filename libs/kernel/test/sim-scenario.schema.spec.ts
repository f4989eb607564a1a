import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SimScenarioError } from '../src/sim/sim-scenario.error.js';
import { parseScenario, validateScenario } from '../src/sim/sim-scenario.schema.js';
import { miscScenario, rdmaScenario } from './sim.fixtures.js';

const scenariosDir = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/** The problems of an invalid scenario, as "path: message" (line numbers checked separately). */
function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof SimScenarioError, String(err));
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected the scenario to be refused');
}

const minimal = `
host: h
modules:
  - { name: m, version: "1.0", file: /m.ko }
drivers:
  - { name: d, module: m, bus: platform }
devices:
  - { bus: platform, id: d.0, driver: d, node: { path: /dev/d0, major: 240, minor: 0 } }
processes:
  - { comm: app, opens: [/dev/d0] }
`;

describe('sim scenario schema', () => {
  it('parses every example scenario', () => {
    const files = readdirSync(scenariosDir).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(files.sort(), ['misc-driver-owned.yaml', 'rdma-subsystem.yaml', 'vfio-wait.yaml']);
    for (const file of files) {
      const scenario = parseScenario(readFileSync(`${scenariosDir}${file}`, 'utf8'));
      const target = scenario.moduleFiles.find((f) => f.default);
      const current = scenario.modules.find((m) => m.name === target?.module);
      assert.equal(target?.version, '2.0', file);
      assert.notEqual(target?.srcversion, current?.srcversion, file);
    }
  });

  it('fills defaults', () => {
    const s = parseScenario(minimal);
    assert.deepEqual(s.timing, { unbindMs: 5, unloadMs: 10, loadMs: 20, probeMs: 10 });
    assert.equal(s.seed, 1);
    assert.deepEqual(s.devices[0]?.revoke, 'revoke');
    assert.deepEqual([s.devices[0]?.errno, s.devices[0]?.fopsOwner, s.devices[0]?.bound], ['ENODEV', 'driver', true]);
    assert.deepEqual(s.processes[0]?.opens, [{ path: '/dev/d0', mmap: false }]);
    assert.deepEqual(s.processes[0]?.onError, {
      action: 'ignore',
      closeAfterMs: 0,
      reopenDelayMs: 0,
      jitterMs: 0,
      retryMs: 10,
      restartDelayMs: 0,
    });
    assert.equal(s.processes[0]?.unit, null);
  });

  it('reads JSON as well as YAML', () => {
    const json = JSON.stringify(validateScenario(miscScenario([])));
    assert.equal(parseScenario(json).host, 'test-misc');
  });

  it('refuses unknown keys, naming the field and its line', () => {
    const text = minimal.replace('node: {', 'revoek: wait, node: {');
    assert.throws(
      () => parseScenario(text),
      (err: unknown) => {
        assert.ok(err instanceof SimScenarioError);
        assert.equal(err.problems[0]?.path, 'devices[0]');
        assert.match(err.problems[0]?.message ?? '', /revoek/);
        assert.equal(err.problems[0]?.line, 8);
        assert.match(err.message, /devices\[0\] \(line 8\): .*revoek/);
        return true;
      },
    );
  });

  it('reports YAML syntax errors with their line', () => {
    assert.throws(
      () => parseScenario('host: h\nmodules: [\n'),
      (err: unknown) =>
        err instanceof SimScenarioError && err.problems[0]?.path === '(syntax)' && err.problems[0]?.line !== null,
    );
  });

  it('asks for quoted versions', () => {
    assert.deepEqual(
      problems(() => parseScenario(minimal.replace('version: "1.0"', 'version: 1.0'))),
      ['modules[0].version: a string or null (quote versions: "1.0")'],
    );
  });

  it('checks that references resolve, naming the field', () => {
    const base = validateScenario(rdmaScenario([{ comm: 'a', opens: ['/dev/infiniband/uverbs0'] }]));
    const broken = structuredClone(base) as unknown as Record<string, Array<Record<string, unknown>>>;
    broken.drivers![0]!.module = 'nope';
    broken.devices![0]!.fopsModule = undefined;
    broken.processes![0]!.opens = [{ path: '/dev/nothing', mmap: false }];
    broken.faults = [
      { kind: 'probe-fails', device: 'nope' },
      { kind: 'load-fails', module: 'hs_rdma', file: '/lib/modules/sim/other.ko', times: 1 },
    ];
    assert.deepEqual(
      problems(() => validateScenario(broken)),
      [
        'drivers[0].module: unknown module "nope"',
        'devices[0].bound: bound at boot, but driver module nope is not loaded at boot',
        'devices[0].fopsModule: required when fopsOwner is subsystem',
        'processes[0].opens[0]: /dev/nothing is not a node of a device bound at boot',
        'faults[0].device: unknown device "nope"',
        'faults[1].file: /lib/modules/sim/other.ko is not a file of module hs_rdma',
      ],
    );
  });

  it('refuses duplicates, unknown drivers and modules, cycles and impossible boot states', () => {
    const s = structuredClone(validateScenario(miscScenario([]))) as unknown as Record<
      string,
      Array<Record<string, unknown>>
    >;
    s.devices!.push({ ...s.devices![0], id: 'hs_misc.1', driver: 'ghost' });
    s.moduleFiles!.push({
      module: 'hs_core',
      file: '/lib/modules/sim/hs_core-2.ko',
      dependsOn: ['hs_misc'],
      default: true,
    });
    s.moduleFiles!.push({ module: 'hs_misc', file: '/lib/modules/sim/hs_misc-2.0.ko', default: true });
    s.processes!.push({ pid: 5, comm: 'a', opens: [] }, { pid: 5, comm: 'b', opens: [] });
    s.devices!.push({
      ...s.devices![0],
      id: 'hs_misc.2',
      node: { path: '/dev/x', major: 1, minor: 1 },
      fopsModule: 'hs_core',
    });
    assert.deepEqual(
      problems(() => validateScenario(s)),
      [
        'moduleFiles[3].file: /lib/modules/sim/hs_misc-2.0.ko is already declared at moduleFiles.0.file',
        'moduleFiles[3].default: hs_misc already has a default file',
        'modules: dependency cycle: hs_core -> hs_misc -> hs_core',
        'devices[1].node.path: /dev/hsmisc0 is the node of another device',
        'devices[1].node.minor: device number 240:0 is used by another device',
        'devices[1].driver: no driver "ghost" on bus platform',
        'devices[2].fopsModule: only with fopsOwner: subsystem (the driver module owns the fops)',
        'processes[1].pid: pid 5 is used twice',
      ],
    );
  });

  it('refuses a subsystem device whose fops module is unknown, and bad field values', () => {
    const s = structuredClone(validateScenario(rdmaScenario([]))) as unknown as Record<
      string,
      Array<Record<string, unknown>>
    >;
    s.devices![0]!.fopsModule = 'ghost_core';
    s.devices![0]!.revoke = 'sometimes';
    s.processes!.push({ comm: 'a-very-long-command-name', opens: ['dev/relative'] });
    assert.deepEqual(
      problems(() => validateScenario(s)),
      [
        'devices[0].revoke: Invalid option: expected one of "revoke"|"wait"',
        'processes[0].comm: at most 15 characters (TASK_COMM_LEN)',
        'processes[0].opens[0]: a path under /dev',
      ],
    );
    // References are checked once the shape is valid.
    s.devices![0]!.revoke = 'wait';
    s.processes!.pop();
    assert.deepEqual(
      problems(() => validateScenario(s)),
      ['devices[0].fopsModule: unknown module "ghost_core"'],
    );
  });
});
