import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
    const { scenario, runbookFor } = await loadScenario(VIRTIO);
    assert.equal(scenario.swap.cycles, 10);
    assert.deepEqual(
      scenario.applications.map((app) => app.name),
      ['fast', 'slow'],
    );
    const runbook = runbookFor('6.1.0-56-amd64');
    assert.deepEqual(runbook.spec.modules[0]?.target, {
      file: '/lib/modules/6.1.0-56-amd64/kernel/drivers/char/virtio_console.ko',
      params: [],
    });
  });

  it('guest files: the swap command, one file per application, the load plan from the runbook', async () => {
    const { scenario, runbookFor } = await loadScenario(VIRTIO);
    const files = guestLabFiles(scenario, runbookFor('6.1.0-56-amd64'));
    assert.equal(files.get('swap.cmd'), `${scenario.swap.command}\n`);
    assert.match(files.get('apps/slow.cmd') ?? '', /^exec \/lab\/bin\/refapp --name slow .*--hold-ms 2000/);
    assert.equal(
      files.get('swap-load.sh')?.split('\n')[1],
      "/usr/sbin/insmod '/lib/modules/6.1.0-56-amd64/kernel/drivers/char/virtio_console.ko' || exit 1",
    );
    assert.match(files.get('swap.env') ?? '', /^SWAP_DRIVER='virtio_console'$/m);
    assert.match(files.get('lab.env') ?? '', /^LAB_APPS='fast slow'$/m);
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
