import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelActionRunner } from '../src/linux/kernel-action.runner.js';

/** Prints its lines in pieces that split them, a pause between each (one write(2) per piece). */
const PIECES = `
const pieces = ['wri', 'ting\\nreturned 4', '2\\n', 'no newline at the end'];
const next = () => {
  if (pieces.length === 0) return;
  process.stdout.write(pieces.shift());
  setTimeout(next, 30);
};
next();
`;

describe('kernel action runner, the lines of a child', () => {
  it('tells each whole line of stdout as it comes, however it is split, and still collects it all', async () => {
    const lines: string[] = [];
    const output = await new KernelActionRunner().run({
      what: 'print in pieces',
      command: process.execPath,
      args: ['-e', PIECES],
      onLine: (line) => lines.push(line),
    });
    assert.deepEqual(lines, ['writing', 'returned 42']);
    assert.equal(output.stdout, 'writing\nreturned 42\nno newline at the end');
  });

  it('tells the first line while the child still runs', async () => {
    let heard: () => void = () => undefined;
    const said = new Promise<void>((resolve) => (heard = resolve));
    const runner = new KernelActionRunner();
    const running = runner.run({
      what: 'say, then wait',
      command: process.execPath,
      args: ['-e', "process.stdout.write('ready\\n'); setInterval(() => undefined, 1000);"],
      onLine: (line) => line === 'ready' && heard(),
    });
    await said;
    assert.equal(runner.liveActions().length, 1, 'its child is alive when the line is told');
    for (const action of runner.liveActions()) process.kill(action.pid, 'SIGTERM');
    await running.catch(() => undefined);
  });
});
