import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModuleVersion } from '@hotswap/contracts';
import type { ModuleStep } from '@hotswap/runbook';
import { stackOnTarget } from '../src/hosts/stack-target.match.js';

const version = (name: string, v: string): ModuleStep => ({ name, target: { version: v, params: [] } });
const file = (name: string): ModuleStep => ({ name, target: { file: `/lib/modules/x/${name}.ko`, params: [] } });
const loaded = (name: string, v: string | null, srcversion: string | null = null): ModuleVersion => ({
  name,
  loaded: true,
  version: v,
  srcversion,
});

describe('stackOnTarget', () => {
  const stack = [version('mlx5_ib', '24.10'), version('mlx5_core', '24.10')];

  it('is true only when every module of the stack runs the target version', () => {
    assert.equal(stackOnTarget(stack, [loaded('mlx5_ib', '24.10'), loaded('mlx5_core', '24.10')]), true);
    assert.equal(stackOnTarget(stack, [loaded('mlx5_ib', '24.10'), loaded('mlx5_core', '24.04')]), false);
  });

  it('is false when a module of the stack is not loaded, unknown when it is not reported', () => {
    const unloaded = { ...loaded('mlx5_core', null), loaded: false };
    assert.equal(stackOnTarget(stack, [loaded('mlx5_ib', '24.10'), unloaded]), false);
    assert.equal(stackOnTarget(stack, [loaded('mlx5_ib', '24.10')]), null);
    assert.equal(stackOnTarget(stack, [loaded('mlx5_ib', '24.04')]), false, 'a mismatch is enough');
  });

  it('compares srcversions when a census resolved the target, whatever the versions say', () => {
    const host = [loaded('hs_misc', '2.0', 'AAA')];
    const target = (srcversion: string) => [{ module: 'hs_misc', file: '/x.ko', version: '2.0', srcversion }];
    assert.equal(stackOnTarget([version('hs_misc', '2.0')], host, target('AAA')), true);
    assert.equal(stackOnTarget([version('hs_misc', '2.0')], host, target('BBB')), false, 'same version, rebuilt');
    assert.equal(stackOnTarget([version('hs_misc', '2.0')], host), null, 'same version, target srcversion unknown');
  });

  it('knows nothing of a file target until a census resolves it', () => {
    const host = [loaded('hs_misc', '2.0', 'AAA')];
    assert.equal(stackOnTarget([file('hs_misc')], host), null);
    assert.equal(stackOnTarget([file('hs_misc')], host, [{ module: 'hs_misc', error: 'no such file' }]), null);
    assert.equal(
      stackOnTarget([file('hs_misc')], host, [{ module: 'hs_misc', file: '/x.ko', version: '2.0', srcversion: null }]),
      true,
      'the resolved version, lacking a srcversion',
    );
  });
});
