import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseRunbook, requireHosts } from '../src/index.js';

/** deploy/runbooks, from libs/runbook/dist/test. */
const RUNBOOKS = new URL('../../../../deploy/runbooks/', import.meta.url);

describe('example runbooks in deploy/runbooks', () => {
  const files = readdirSync(RUNBOOKS).filter((file) => /\.ya?ml$/.test(file));

  it('are there', () => {
    assert.ok(files.includes('sim-misc.yaml') && files.includes('mlx5.yaml'), files.join(', '));
  });

  for (const file of files) {
    it(`${file} parses and names its hosts`, () => {
      const runbook = parseRunbook(readFileSync(new URL(file, RUNBOOKS), 'utf8'), `deploy/runbooks/${file}`);
      assert.ok(requireHosts(runbook).length > 0);
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
});
