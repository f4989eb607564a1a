import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertNoConflictingRollout, conflictingRollout, HostConflictError } from '../src/index.js';

describe('host locks across rollouts', () => {
  const active = [
    { id: 'r-done', hosts: ['a', 'b'], state: 'succeeded' as const },
    { id: 'r-paused', hosts: ['c', 'd', 'e'], state: 'paused' as const },
    { id: 'r-running', hosts: ['f'], state: 'running' as const },
  ];

  it('names the other unfinished rollout that owns a host, and which hosts', () => {
    assert.deepEqual(conflictingRollout(['a', 'e', 'd', 'x'], active), {
      rolloutId: 'r-paused',
      state: 'paused',
      hostIds: ['d', 'e'],
    });
    assert.equal(conflictingRollout(['a', 'b', 'x'], active), null);
    assert.equal(conflictingRollout(['f'], active, 'r-running'), null);
  });

  it('refuses the second rollout with an error a person can act on', () => {
    assert.throws(
      () => assertNoConflictingRollout(['f', 'g'], active),
      (error: unknown) =>
        error instanceof HostConflictError &&
        error.code === 'ROLLOUT_HOST_CONFLICT' &&
        error.message ===
          'host(s) f already belong to rollout r-running (running): wait for it to finish, or abort it, before starting another rollout on them',
    );
    assert.doesNotThrow(() => assertNoConflictingRollout(['g'], active));
  });
});
