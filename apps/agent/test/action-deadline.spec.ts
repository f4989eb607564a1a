import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { ActionDeadline } from '../src/swap/action-deadline.js';

/** On mocked timers: time moves only when the test ticks it. */
describe('action deadline', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('is stuck once the deadline has passed since the start when the action never says it began', () => {
    let stuck = 0;
    new ActionDeadline(3000, () => stuck++);
    mock.timers.tick(2999);
    assert.equal(stuck, 0);
    mock.timers.tick(1);
    assert.equal(stuck, 1);
  });

  it('counts from the moment the action began (an unbind child about to write), not from its start', () => {
    let stuck = 0;
    const deadline = new ActionDeadline(3000, () => stuck++);
    mock.timers.tick(700); // the child's runtime starting
    deadline.begun();
    mock.timers.tick(2999); // 3699 ms after the start
    assert.equal(stuck, 0);
    mock.timers.tick(1);
    assert.equal(stuck, 1);
  });

  it('says nothing once the action settled, even if told it began afterwards', () => {
    let stuck = 0;
    const deadline = new ActionDeadline(3000, () => stuck++);
    mock.timers.tick(100);
    deadline.clear();
    deadline.begun();
    mock.timers.tick(10_000);
    assert.equal(stuck, 0);
  });

  it('reports once: a child that begins after the deadline fired does not arm it again', () => {
    let stuck = 0;
    const deadline = new ActionDeadline(300, () => stuck++);
    mock.timers.tick(300);
    assert.equal(stuck, 1);
    deadline.begun(); // the child's runtime took longer than the deadline to reach its write
    mock.timers.tick(10_000);
    assert.equal(stuck, 1);
  });
});
