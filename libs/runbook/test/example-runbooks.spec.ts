import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hostSelectorOf, parseRunbook, requireHosts } from '../src/index.js';

/** deploy/runbooks, from libs/runbook/dist/test. */
const RUNBOOKS = new URL('../../../../deploy/runbooks/', import.meta.url);

describe('example runbooks in deploy/runbooks', () => {
  const files = readdirSync(RUNBOOKS).filter((file) => /\.ya?ml$/.test(file));

  it('are there', () => {
    for (const expected of ['sim-misc.yaml', 'mlx5.yaml', 'fleet-canary.yaml']) {
      assert.ok(files.includes(expected), files.join(', '));
    }
  });

  for (const file of files) {
    it(`${file} parses and says which hosts it covers`, () => {
      const runbook = parseRunbook(readFileSync(new URL(file, RUNBOOKS), 'utf8'), `deploy/runbooks/${file}`);
      const hosts = hostSelectorOf(runbook);
      assert.ok('names' in hosts ? hosts.names.length > 0 : Object.keys(hosts.matchLabels).length > 0);
    });
  }

  it('sim-misc.yaml swaps hs_misc to version 2.0 on the platform bus', () => {
    const runbook = parseRunbook(readFileSync(new URL('sim-misc.yaml', RUNBOOKS), 'utf8'));
    assert.deepEqual(runbook.spec.modules, [{ name: 'hs_misc', target: { version: '2.0', params: [] } }]);
    assert.deepEqual(runbook.spec.devices, { bus: 'platform', driver: 'hs_misc' });
  });

  it('mlx5.yaml unloads mlx5_ib before mlx5_core', () => {
    const runbook = parseRunbook(readFileSync(new URL('mlx5.yaml', RUNBOOKS), 'utf8'));
    assert.deepEqual(
      runbook.spec.modules.map((step) => step.name),
      ['mlx5_ib', 'mlx5_core'],
    );
    assert.equal(runbook.spec.blockedUnbind.policy, 'signal');
  });

  it('fleet-canary.yaml selects by labels and uses every rollout setting', () => {
    const runbook = parseRunbook(readFileSync(new URL('fleet-canary.yaml', RUNBOOKS), 'utf8'));
    const { spec } = runbook;
    assert.deepEqual(hostSelectorOf(runbook), { matchLabels: { pool: 'gpu-training', nic: 'cx6dx' } });
    assert.throws(() => requireHosts(runbook), /selects its hosts by labels/);
    assert.deepEqual(spec.strategy, {
      canary: 1,
      maxUnavailable: '10%',
      domainCap: { label: 'rack', max: 1 },
      pauseBetweenWavesSeconds: 600,
    });
    assert.deepEqual(spec.slo, { percentile: 95, recoverySeconds: 20, maxNotRecovered: 0 });
    assert.equal(spec.failurePolicy, 'rollback-host');
    assert.deepEqual(spec.maintenanceWindows[0], {
      days: ['mon', 'tue', 'wed', 'thu'],
      start: '22:00',
      end: '05:00',
      timeZone: 'Europe/Paris',
    });
    assert.deepEqual(spec.prometheusGate?.condition, { op: '<', value: 0.5 });
    assert.deepEqual(
      spec.hooks.post.map((hook) => [hook.name, hook.shell, hook.timeoutSeconds]),
      [
        ['uncordon', false, 60],
        ['smoke-test', true, 30],
      ],
    );
    assert.equal(spec.deadlines.actionSeconds, 60);
  });
});
