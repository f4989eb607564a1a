import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { guestLabFiles } from '../src/guest-files.js';
import { SCENARIOS_DIR } from '../src/lab-paths.js';
import { loadScenario } from '../src/scenario.loader.js';

const VIRTIO = join(SCENARIOS_DIR, 'virtio-console.yaml');

function scenarioFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'lab-scenario-')), 'scenario.yaml');
  writeFileSync(file, yaml);
  return file;
}

const MINIMAL = (extra: string) => `name: t
timeoutSeconds: 60
modules: [virtio_console]
applications:
  - name: app
    command: /lab/bin/refapp --node /dev/x
swap:
  cycles: 1
  command: /lab/bin/lab-swap-shell
runbook:
  apiVersion: hotswap/v1
  kind: Runbook
  metadata: { name: t }
  spec:
    modules: [{ name: virtio_console, target: { file: '/lib/modules/\${KERNEL_RELEASE}/virtio_console.ko' } }]
    devices: { bus: virtio, driver: virtio_console }
${extra}`;

describe('scenarios', () => {
  it('virtio-console: two holders, ten cycles, the runbook with the guest kernel release', async () => {
    const { scenario, runbooksFor } = await loadScenario(VIRTIO);
    assert.equal(scenario.swap.cycles, 10);
    assert.deepEqual(
      scenario.applications.map((app) => app.name),
      ['fast', 'slow'],
    );
    const [runbook] = runbooksFor('6.1.0-56-amd64');
    assert.equal(runbooksFor('6.1.0-56-amd64').length, 1);
    assert.deepEqual(runbook?.spec.modules[0]?.target, {
      file: '/lib/modules/6.1.0-56-amd64/kernel/drivers/char/virtio_console.ko',
      params: [],
    });
  });

  it('guest files: the swap command, one file per application, the load plan from the runbook', async () => {
    const { scenario, runbooksFor } = await loadScenario(VIRTIO);
    const files = guestLabFiles(scenario, runbooksFor('6.1.0-56-amd64'));
    assert.equal(files.get('swap.cmd'), `${scenario.swap.command}\n`);
    assert.match(files.get('apps/slow.cmd') ?? '', /^exec \/lab\/bin\/refapp --name slow .*--hold-ms 2000/);
    assert.equal(
      files.get('variants/0/swap-load.sh')?.split('\n')[1],
      "/usr/sbin/insmod '/lib/modules/6.1.0-56-amd64/kernel/drivers/char/virtio_console.ko' || exit 1",
    );
    assert.match(files.get('variants/0/swap.env') ?? '', /^SWAP_DRIVER='virtio_console'$/m);
    assert.match(files.get('lab.env') ?? '', /^LAB_APPS='fast slow'$/m);
  });

  it('every scenario in test/kernel/scenarios loads', async () => {
    const names = readdirSync(SCENARIOS_DIR).filter((name) => name.endsWith('.yaml'));
    assert.ok(names.length >= 5);
    for (const name of names) await loadScenario(join(SCENARIOS_DIR, name));
  });

  it('hs-revoke: a built module per version, one runbook per swap.alternate entry', async () => {
    const { scenario, runbooksFor } = await loadScenario(join(SCENARIOS_DIR, 'hs-revoke.yaml'));
    const runbooks = runbooksFor('6.1.0-56-amd64');
    assert.deepEqual(
      runbooks.map((runbook) => runbook.spec.modules[0]?.target),
      [
        { file: '/lab/modules/hs_lab-2.0.ko', params: ['mode=revoke'] },
        { file: '/lab/modules/hs_lab-1.0.ko', params: ['mode=revoke'] },
      ],
    );
    assert.equal(scenario.build?.files['/lib/modules/${KERNEL_RELEASE}/extra/hs_lab.ko'], 'hs_lab-1.0.ko');
    const files = guestLabFiles(scenario, runbooks);
    assert.match(files.get('variants/1/runbook.yaml') ?? '', /hs_lab-1\.0\.ko/);
    assert.match(files.get('lab.env') ?? '', /^LAB_VARIANTS='2'$/m);
    assert.match(files.get('lab.env') ?? '', /^LAB_WATCH_MODULES='hs_pdev hs_lab'$/m);
  });

  it('hs-wait: applications that come back as new processes, and a swap that may fail', async () => {
    const wait = await loadScenario(join(SCENARIOS_DIR, 'hs-wait.yaml'));
    const env = guestLabFiles(wait.scenario, wait.runbooksFor('6.1.0-56-amd64')).get('lab.env') ?? '';
    assert.match(env, /^LAB_RESTARTING_APPS='w1 w2 w3'$/m);
    assert.match(env, /^LAB_WATCH_PATHS='\/sys\/class\/misc\/hs_lab0'$/m);
    assert.match(env, /^LAB_EXPECT='succeed'$/m);
    const fail = await loadScenario(join(SCENARIOS_DIR, 'hs-wait-fail.yaml'));
    assert.equal(fail.scenario.swap.expect, 'fail');
  });

  it('refuses a runbook variable no swap.alternate entry defines', async () => {
    const yaml = MINIMAL('').replace('/lib/modules/${KERNEL_RELEASE}/virtio_console.ko', '/lab/x-${VERSION}.ko');
    await assert.rejects(loadScenario(scenarioFile(yaml)), /\$\{VERSION\} is not defined/);
    const defined = yaml.replace('  cycles: 1', "  cycles: 1\n  alternate: [{ VERSION: '2' }, { VERSION: '1' }]");
    const { runbooksFor } = await loadScenario(scenarioFile(defined));
    assert.deepEqual(
      runbooksFor('r').map((runbook) => (runbook.spec.modules[0]?.target as { file: string }).file),
      ['/lab/x-2.ko', '/lab/x-1.ko'],
    );
  });

  it('refuses QEMU options the runner owns, unknown checks and runbook mistakes', async () => {
    await assert.rejects(
      loadScenario(scenarioFile(MINIMAL('qemu: { args: [-nic, user] }'))),
      /-nic is set by the lab runner/,
    );
    await assert.rejects(loadScenario(scenarioFile(MINIMAL('checks: [{ check: nope }]'))), /checks/);
    await assert.rejects(
      loadScenario(scenarioFile(MINIMAL('checks: [{ check: app-recovery, app: ghost }]'))),
      /"ghost", not an application/,
    );
    await assert.rejects(
      loadScenario(scenarioFile(MINIMAL('').replace('bus: virtio', 'bus: virtio, drvier: x'))),
      /runbook/,
    );
  });
});
