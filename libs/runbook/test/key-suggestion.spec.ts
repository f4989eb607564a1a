import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestKey, editDistance } from '../src/key-suggestion.js';

describe('closestKey', () => {
  const deadlines = ['unbindSeconds', 'zombieCloseSeconds', 'actionSeconds', 'recoveryWatchSeconds'];

  it('measures edits', () => {
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('same', 'same'), 0);
  });

  it('suggests close keys and nothing for far ones', () => {
    assert.equal(closestKey('unbindSecond', deadlines), 'unbindSeconds');
    assert.equal(closestKey('actionSecs', deadlines), 'actionSeconds');
    assert.equal(closestKey('ACTIONSECONDS', deadlines), 'actionSeconds');
    assert.equal(closestKey('timeout', deadlines), undefined);
    assert.equal(closestKey('x', ['a', 'b']), undefined);
  });
});
