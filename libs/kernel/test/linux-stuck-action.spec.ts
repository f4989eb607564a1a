import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KernelActionError } from '../src/kernel-action.error.js';
import { LinuxKernelAdapter } from '../src/linux/linux.adapter.js';
import { makeTempSysfs } from './fixtures/linux/temp-sysfs.js';

const adapterModule = fileURLToPath(new URL('../src/linux/linux.adapter.js', import.meta.url));

/** Alive and not a zombie (an orphan waits for init to reap it). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

/**
 * A write that blocks in the kernel, for real: the driver's `unbind` is a FIFO nobody reads, so
 * the writing child blocks in open(2) exactly as it would in an unbind that waits for holders.
 */
describe('linux adapter, a kernel action that blocks', () => {
  let root: string;
  let sys: string;
  let fifo: string;
  const started: number[] = [];
  const FOOD = { bus: 'platform', id: 'food.0' };

  before(() => {
    ({ root, sys } = makeTempSysfs());
    fifo = join(sys, 'bus/platform/drivers/food/unbind');
    unlinkSync(fifo);
    execFileSync('mkfifo', [fifo]);
  });
  after(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL'); // children these tests started
    rmSync(root, { recursive: true, force: true });
  });

  it('stays pending, is listed live, blocks nothing but its device, and settles when the kernel lets go', async () => {
    const kernel = new LinuxKernelAdapter({ roots: { sys, proc: '/proc', dev: join(root, 'dev') } });
    let settled = false;
    const t0 = Date.now();
    const unbind = kernel.unbind(FOOD).finally(() => (settled = true));

    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    await sleep(500);
    clearInterval(ticker);
    assert.equal(settled, false, 'the unbind has not returned');
    assert.ok(ticks >= 20, `the event loop kept running (${ticks} ticks of 10 ms in 500 ms)`);

    const [live] = kernel.liveActions();
    assert.ok(live, 'the blocked child is listed');
    started.push(live.pid);
    assert.equal(kernel.liveActions().length, 1);
    assert.equal(live.what, 'unbind platform food.0 from food');
    assert.equal(live.device, 'platform/food.0');
    assert.ok(live.since >= t0 && live.since <= Date.now());
    assert.ok(alive(live.pid), 'the child is alive');
    assert.equal(live.command[0], process.execPath, 'the unbind writer stamps its return: a Node.js child');

    const attempts = [
      () => kernel.unbind(FOOD),
      () => kernel.bind(FOOD, 'other'),
      () => kernel.setDriverOverride(FOOD, null),
    ];
    for (const attempt of attempts) {
      await assert.rejects(attempt(), (err: unknown) => {
        assert.ok(err instanceof KernelActionError);
        assert.equal(err.code, 'EBUSY');
        assert.match(
          err.message,
          new RegExp(`"unbind platform food.0 from food" \\(pid ${live.pid}\\) has been in progress since`),
        );
        return true;
      });
    }
    await kernel.bind({ bus: 'platform', id: 'free.0' }, 'other'); // another device is not held up
    assert.equal(settled, false);

    // The kernel lets go: someone reads the FIFO, the child's write completes and it exits.
    const written = await readFile(fifo, 'utf8');
    await unbind;
    assert.equal(written, 'food.0');
    assert.deepEqual(kernel.liveActions(), []);
    assert.equal(alive(live.pid), false);
  });

  it('close() lets the agent exit although a child is stuck; the child is left alive, not killed', async () => {
    const script = `
      import { LinuxKernelAdapter } from ${JSON.stringify(adapterModule)};
      const kernel = new LinuxKernelAdapter({ roots: { sys: ${JSON.stringify(sys)}, proc: '/proc', dev: '/nonexistent' } });
      const pending = kernel.unbind({ bus: 'platform', id: 'food.0' });
      pending.catch(() => undefined);
      setTimeout(async () => {
        process.stdout.write(JSON.stringify(kernel.liveActions()) + '\\n');
        await kernel.close();
      }, 300);
    `;
    const agent = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    started.push(agent.pid as number);
    let out = '';
    agent.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => agent.on('exit', resolve));
    const live = JSON.parse(out.trim()) as { pid: number; what: string }[];
    assert.equal(code, 0, 'the agent process exited on its own');
    assert.equal(live.length, 1);
    const stuck = live[0] as { pid: number };
    started.push(stuck.pid);
    assert.ok(alive(stuck.pid), 'the stuck child was not killed');

    // Let it finish: open the read end without blocking and drain it.
    const reader = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    for (let i = 0; i < 500 && alive(stuck.pid); i++) {
      await reader.read(Buffer.alloc(64), 0, 64, null).catch(() => undefined);
      await sleep(20);
    }
    await reader.close();
    assert.equal(alive(stuck.pid), false, 'the orphaned child finished once the write could complete');
  });
});
