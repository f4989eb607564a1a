import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RegisteredHost } from '../src/hosts/host-heartbeat.decoder.js';
import { resolveHostSet } from '../src/rollouts/host-set.resolver.js';
import { runbookFor } from './fixtures.js';

const registered = (hostId: string, labels: Record<string, string>, available = true): RegisteredHost => ({
  hostId,
  lastSeen: 1,
  ageSeconds: 0,
  available,
  kernel: null,
  agentVersion: null,
  labels,
  busy: false,
  metricsUrl: null,
  modules: [],
});
const REGISTRY = [
  registered('a', { rack: 'r1', pool: 'gpu' }),
  registered('b', { rack: 'r2', pool: 'gpu' }, false),
  registered('c', { rack: 'r1', pool: 'cpu' }),
];
const bySelector = (matchLabels: Record<string, string>) =>
  runbookFor('sel', [], { hosts: { selector: { matchLabels } } });

describe('resolveHostSet', () => {
  it('names: in the order listed, with the labels the registry has now', () => {
    assert.deepEqual(resolveHostSet(runbookFor('n', ['c', 'a']), REGISTRY), [
      { hostId: 'c', labels: { rack: 'r1', pool: 'cpu' } },
      { hostId: 'a', labels: { rack: 'r1', pool: 'gpu' } },
    ]);
    assert.throws(() => resolveHostSet(runbookFor('n', ['a', 'zz']), REGISTRY), {
      code: 'HOSTS_NOT_REGISTERED',
      hosts: ['zz'],
    });
  });

  it('a selector takes every registered host carrying all its labels, available or not', () => {
    assert.deepEqual(
      resolveHostSet(bySelector({ pool: 'gpu' }), REGISTRY).map((h) => h.hostId),
      ['a', 'b'],
    );
    assert.deepEqual(
      resolveHostSet(bySelector({ pool: 'gpu', rack: 'r2' }), REGISTRY).map((h) => h.hostId),
      ['b'],
    );
    assert.throws(() => resolveHostSet(bySelector({ pool: 'tpu' }), REGISTRY), {
      code: 'SELECTOR_MATCHES_NO_HOSTS',
      status: 400,
      message: /\{pool=tpu\} matches none of the 3 registered host\(s\)/,
    });
  });
});
