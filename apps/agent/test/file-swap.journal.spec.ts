import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SwapJob } from '@hotswap/contracts';
import { start, type SwapPlan } from '@hotswap/swap';
import { FileSwapJournal } from '../src/journal/file-swap.journal.js';
import { HostBusyError, HostLock } from '../src/lock/host.lock.js';

const plan: SwapPlan = {
  modules: ['hs_misc'],
  loads: [{ module: 'hs_misc', version: '2.0', params: [] }],
  devices: { bus: 'platform', driver: 'hs_misc' },
  unbindDeadlineMs: 1000,
  zombieCloseDeadlineMs: 1000,
  actionDeadlineMs: 1000,
  recoveryWatchMs: 1000,
  pollMs: 50,
  blockedUnbind: { policy: 'fail', graceMs: 1000 },
  hooks: { pre: [], post: [] },
};
const job: SwapJob = {
  v: 1,
  rolloutId: 'r1',
  hostId: 'h1',
  direction: 'forward',
  runbook: {},
  notAfter: 2,
  enqueuedAt: 1,
};

describe('file swap journal and host lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-journal-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the last state, ignores a torn last line and lists unfinished swaps', async () => {
    const journal = new FileSwapJournal(join(dir, 'journal'));
    const sink = await journal.begin('s1', job);
    const { state } = start({ swapId: 's1', hostId: 'h1', plan, at: 10 });
    await sink.write(state);
    appendFileSync(join(dir, 'journal', 's1.jsonl'), '{"state": {"phase": "unlo');
    const read = await journal.read('s1');
    assert.deepEqual(read?.state, state);
    assert.deepEqual(read?.job, job);
    assert.deepEqual(
      (await journal.unfinished()).map((s) => s.swapId),
      ['s1'],
    );
    assert.equal(await journal.read('nope'), null);
  });

  it('refuses swap ids that could escape the journal directory', async () => {
    await assert.rejects(new FileSwapJournal(dir).read('../etc/passwd'), /invalid swap id/);
  });

  it('one swap at a time: a live holder blocks, a dead holder is taken over', async () => {
    const lockDir = join(dir, 'lock');
    const first = new HostLock(lockDir);
    await first.acquire();
    // A lock held by another live process (our parent) is refused.
    writeFileSync(join(lockDir, 'host.lock'), String(process.ppid));
    await assert.rejects(new HostLock(lockDir).acquire(), HostBusyError);
    // A lock left by a dead process is stale.
    writeFileSync(join(lockDir, 'host.lock'), '999999999');
    const second = new HostLock(lockDir);
    await second.acquire();
    await second.release();
  });
});
