import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '@hotswap/tools';

/**
 * deploy/systemd/: the units' key properties, read by parsing them (the agent as root with its
 * journal on persistent storage and Restart=always; the controller as a dynamic unprivileged
 * user in a sandbox), their example environment files against the variables the apps read,
 * and `systemd-analyze verify` where systemd is installed.
 */
const DIR = join(REPO_ROOT, 'deploy/systemd');
const INSTALL_ROOT = '/opt/hotswap/';

type Unit = Map<string, Map<string, string[]>>;

/** Sections of key=value lines; a key may repeat (Environment=, SystemCallFilter=). */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1]) {
      section = new Map();
      unit.set(header[1], section);
      continue;
    }
    const pair = /^([A-Za-z]+)=(.*)$/.exec(line);
    assert.ok(pair && section, `not a unit line: ${line}`);
    const [, key, value] = pair as unknown as [string, string, string];
    section.set(key, [...(section.get(key) ?? []), value]);
  }
  return unit;
}

const read = (name: string): Unit => parseUnit(readFileSync(join(DIR, name), 'utf8'));
const last = (unit: Unit, section: string, key: string): string | undefined => unit.get(section)?.get(key)?.at(-1);
const all = (unit: Unit, section: string, key: string): string[] => unit.get(section)?.get(key) ?? [];
const envOf = (unit: Unit): Map<string, string> =>
  new Map(
    all(unit, 'Service', 'Environment').map((e) => {
      const [key, ...value] = e.split('=');
      return [key!, value.join('=')];
    }),
  );

/** KEY=value lines of an env file. */
const envFileKeys = (name: string): string[] =>
  readFileSync(join(DIR, name), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => line.split('=')[0]!);

/** The entry point ExecStart runs, found in this repository. */
function assertRunsMain(unit: Unit, main: string): void {
  const exec = last(unit, 'Service', 'ExecStart') ?? '';
  const [node, script] = exec.split(/\s+/);
  assert.match(node ?? '', /\/node$/);
  assert.equal(script, INSTALL_ROOT + main);
  assert.ok(existsSync(join(REPO_ROOT, main.replace('/dist/src/', '/src/').replace(/\.js$/, '.ts'))), main);
}

describe('deploy/systemd: units', () => {
  it('the agent runs as root, always restarted, its journal in /var/lib/hotswap on persistent storage', () => {
    const unit = read('hotswap-agent.service');
    assertRunsMain(unit, 'apps/agent/dist/src/main.js');
    assert.equal(last(unit, 'Service', 'User'), 'root');
    assert.equal(last(unit, 'Service', 'DynamicUser'), undefined);
    assert.equal(last(unit, 'Service', 'Restart'), 'always');
    assert.equal(last(unit, 'Service', 'StateDirectory'), 'hotswap');
    assert.equal(envOf(unit).get('STATE_DIR'), '/var/lib/hotswap');
    assert.equal(last(unit, 'Unit', 'RequiresMountsFor'), '/var/lib/hotswap');
    assert.match(last(unit, 'Service', 'EnvironmentFile') ?? '', /^-?\/etc\/hotswap\/agent\.env$/);
    // What would take away sysfs writes, module loading or other processes' files.
    for (const key of ['ProtectKernelModules', 'ProtectKernelTunables', 'PrivateDevices', 'ProtectSystem']) {
      assert.equal(last(unit, 'Service', key), undefined, `${key} would stop the agent from swapping`);
    }
    assert.equal(last(unit, 'Install', 'WantedBy'), 'multi-user.target');
  });

  it('the controller runs as a dynamic unprivileged user in a sandbox', () => {
    const unit = read('hotswap-controller.service');
    assertRunsMain(unit, 'apps/controller/dist/src/main.js');
    const expect: Record<string, string> = {
      DynamicUser: 'yes',
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictSUIDSGID: 'yes',
      CapabilityBoundingSet: '',
    };
    for (const [key, value] of Object.entries(expect)) assert.equal(last(unit, 'Service', key), value, key);
    assert.equal(last(unit, 'Service', 'User'), undefined, 'no fixed user, never root');
    assert.match(last(unit, 'Service', 'RestrictAddressFamilies') ?? '', /^AF_UNIX AF_INET AF_INET6$/);
    assert.ok(all(unit, 'Service', 'SystemCallFilter').includes('@system-service'));
    assert.equal(last(unit, 'Service', 'MemoryDenyWriteExecute'), undefined, "V8's JIT needs it off");
    assert.match(last(unit, 'Service', 'EnvironmentFile') ?? '', /^-?\/etc\/hotswap\/controller\.env$/);
    assert.ok(last(unit, 'Service', 'Restart'));
  });

  it('the example environment files set only variables the apps read', () => {
    const agentSources = ['apps/agent/src/config/agent.config.ts', 'apps/agent/src/logger.ts']
      .map((f) => readFileSync(join(REPO_ROOT, f), 'utf8'))
      .join('\n');
    const agentKeys = envFileKeys('agent.env.example');
    for (const key of ['REDIS_URL', 'HOST_ID', 'BIND', 'PORT', 'KERNEL']) assert.ok(agentKeys.includes(key), key);
    for (const key of agentKeys) assert.ok(agentSources.includes(`'${key}'`), `the agent does not read ${key}`);

    const controllerSource = ['apps/controller/src/controller.config.ts', 'apps/controller/src/auth/auth.config.ts']
      .map((f) => readFileSync(join(REPO_ROOT, f), 'utf8'))
      .join('\n');
    const controllerKeys = envFileKeys('controller.env.example');
    for (const key of ['REDIS_URL', 'HOST', 'PORT', 'HOTSWAP_TOKENS_FILE'])
      assert.ok(controllerKeys.includes(key), key);
    for (const key of controllerKeys) {
      assert.ok(controllerSource.includes(`'${key}'`), `the controller does not read ${key}`);
    }
  });

  it('systemd-analyze verify accepts both units', (t) => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      t.skip('systemd-analyze is not installed here (a container without systemd): only the parsed checks ran');
      return;
    }
    const units = ['hotswap-agent.service', 'hotswap-controller.service'].map((u) => join(DIR, u));
    const verify = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8', timeout: 60_000 });
    // Tolerated: the executable and env files live where the unit will be installed, not here.
    const problems = `${verify.stdout}${verify.stderr}`
      .split('\n')
      .filter((line) => line.trim() !== '')
      .filter((line) => !/(\/usr\/bin\/node|\/etc\/hotswap\/).*(No such file|not executable)/.test(line));
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
