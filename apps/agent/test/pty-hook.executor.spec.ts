import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { HookSpec } from '@hotswap/swap';
import { PtyHookExecutor } from '../src/hooks/pty-hook.executor.js';

/** Hooks run in a real PTY, as real programs, from an allow-listed directory. */
describe('PTY hook executor', { timeout: 30_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'hotswap-hooks-'));
  const hooksDir = join(root, 'hooks');
  const logDir = join(root, 'logs');
  const script = (name: string, body: string): string => {
    const file = join(hooksDir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  spawnSync('mkdir', ['-p', hooksDir]);
  // A vendor-style tool: refuses to run without a terminal, then asks before acting.
  const firmware = script(
    'fw-reset',
    `[ -t 0 ] || { echo "fw-reset: stdin is not a terminal, refusing" >&2; exit 3; }
printf 'Reset the adapter firmware? Continue? (y/n) '
read answer
[ "$answer" = y ] || { echo aborted; exit 1; }
echo "firmware reset done"
# node-pty can drop what a child writes in the very instant before it exits (seen in fresh-clone
# runs even with the executor waiting for the terminal to go quiet): a real tool's exit is not
# that abrupt, and this test is about the prompt and the streaming, so the tool lingers a moment.
sleep 0.3`,
  );
  const hook = (argv: string[], extra: Partial<HookSpec> = {}): HookSpec => ({
    name: 'fw-reset',
    argv,
    shell: false,
    timeoutMs: 5000,
    expect: [],
    successExitCodes: [0],
    ...extra,
  });
  const executor = new PtyHookExecutor({ hooksDir, allowShell: false, logDir });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the tool really refuses to run when its stdin is not a terminal', () => {
    const run = spawnSync(firmware, [], { input: 'y\n' });
    assert.equal(run.status, 3);
    assert.match(run.stderr.toString(), /not a terminal/);
  });

  it('runs it in a PTY, answers its prompt, keeps its output on the host and streams it', async () => {
    let streamed = '';
    const outcome = await executor.run(
      hook([firmware], { expect: [{ prompt: 'Continue? (y/n)', answer: 'y' }] }),
      'pre',
      'swap-1',
      (text) => (streamed += text),
    );
    assert.deepEqual(outcome, { ok: true, detail: 'exit 0' });
    assert.match(streamed, /firmware reset done/);
    assert.match(
      readFileSync(join(logDir, 'swap-1.pre.fw-reset.log'), 'utf8'),
      /Continue\? \(y\/n\)[\s\S]*firmware reset done/,
    );
  });

  it('a prompt nobody answers runs into the deadline, and the whole process group is killed', async () => {
    const pidFile = join(root, 'bg.pid');
    const stuck = script('stuck', `sleep 60 & echo $! > ${pidFile}\nprintf 'Continue? (y/n) '\nread answer`);
    const outcome = await executor.run(hook([stuck], { timeoutMs: 500 }), 'pre', 'swap-2');
    assert.equal(outcome.ok, false);
    assert.match(outcome.detail, /timed out after 0.5 s; its process group was killed/);
    const background = Number(readFileSync(pidFile, 'utf8'));
    // Gone, or a zombie waiting for init to reap it: either way it no longer runs.
    const running = (): boolean => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${background}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && running(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(running(), false, 'the hook child in its process group is gone too');
  });

  it('exit codes count as declared', async () => {
    const three = script('three', 'exit 3');
    assert.deepEqual(await executor.run(hook([three]), 'post', 's3'), { ok: false, detail: 'exit 3' });
    assert.deepEqual(await executor.run(hook([three], { successExitCodes: [0, 3] }), 'post', 's3'), {
      ok: true,
      detail: 'exit 3',
    });
  });

  it('refuses programs outside the allow-listed directory, relative paths and shell hooks', async () => {
    assert.match(
      (await executor.run(hook(['/bin/true']), 'pre', 's4')).detail,
      /not in the allow-listed hooks directory/,
    );
    assert.match((await executor.run(hook(['fw-reset']), 'pre', 's4')).detail, /absolute path/);
    assert.match((await executor.run(hook([join(hooksDir, '..', 'escape')]), 'pre', 's4')).detail, /no such program/);
    const shell = hook(['sh', '-c', 'echo hi'], { shell: true });
    assert.match((await executor.run(shell, 'pre', 's4')).detail, /shell hooks are disabled/);
  });
});
