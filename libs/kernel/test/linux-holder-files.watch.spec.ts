import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { FilesSighting, HolderFilesWatch } from '../src/kernel.port.js';
import { LinuxKernelAdapter } from '../src/linux/linux.adapter.js';

/** /dev/zero's number: any user opens it, a node made with it opens, and node holds none (it holds /dev/null). */
const ZERO = '1:5';

/** A process that opens and closes files when told to on stdin ("open PATH" / "close FD"). */
const HOLDER = `
const fs = require('node:fs');
let buf = '';
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\\n')) >= 0) {
    const [verb, arg] = buf.slice(0, nl).split(' ');
    buf = buf.slice(nl + 1);
    if (verb === 'open') process.stdout.write('fd ' + fs.openSync(arg, 'r') + '\\n');
    if (verb === 'close') { fs.closeSync(Number(arg)); process.stdout.write('closed\\n'); }
  }
});
`;

/** A holder process under the test's control: one command at a time, answered by one line. */
class Holder {
  readonly child: ChildProcess;
  private answer: ((line: string) => void) | null = null;

  constructor() {
    this.child = spawn(process.execPath, ['-e', HOLDER], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) this.answer?.(line);
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  private ask(command: string): Promise<string> {
    return new Promise((resolve) => {
      this.answer = resolve;
      this.child.stdin?.write(`${command}\n`);
    });
  }

  async open(path: string): Promise<number> {
    return Number((await this.ask(`open ${path}`)).split(' ')[1]);
  }

  async close(fd: number): Promise<void> {
    await this.ask(`close ${fd}`);
  }
}

/** A files watch, everything it told, and its first look (the worker thread takes a while to start). */
function watching(
  rdevs: string[],
  pids: number[],
): { watch: HolderFilesWatch; told: FilesSighting[]; looked: Promise<void> } {
  const told: FilesSighting[] = [];
  let firstTold: () => void = () => undefined;
  const looked = new Promise<void>((resolve) => (firstTold = resolve));
  const watch = new LinuxKernelAdapter().filesWatch(rdevs, pids, (s) => {
    told.push(s);
    firstTold();
  });
  return { watch, told, looked };
}

/** Until a whole look taken after this call has been told: a flush is answered after one. */
async function lookedAgain(watch: HolderFilesWatch): Promise<void> {
  await watch.flush();
}

describe('linux adapter, the files watch of known holders (a worker thread)', () => {
  const holders: Holder[] = [];
  const watches: HolderFilesWatch[] = [];
  const holder = (): Holder => {
    const h = new Holder();
    holders.push(h);
    return h;
  };
  afterEach(async () => {
    await Promise.all(watches.splice(0).map((w) => w.close()));
    for (const h of holders.splice(0)) if (h.child.exitCode === null) h.child.kill('SIGKILL');
  });

  it('tells a holder’s files on the wanted numbers when they change, stamped when its fds were read', async () => {
    const h = holder();
    await h.open('/etc/hostname'); // a file on no wanted device: never told
    const { watch, told, looked } = watching([ZERO], [h.pid]);
    watches.push(watch);
    await looked;
    await lookedAgain(watch);
    assert.deepEqual(
      told.map((s) => [s.pid, s.files]),
      [[h.pid, []]],
      'its first look, once',
    );

    const asked = Date.now();
    const fd = await h.open('/dev/zero');
    await lookedAgain(watch);
    const answered = Date.now();
    assert.equal(told.length, 2);
    const seen = told[1] as FilesSighting;
    const ino = statSync('/dev/zero').ino;
    assert.deepEqual(seen.files, [{ fd, path: '/dev/zero', deleted: false, rdev: ZERO, ino }]);
    // Date.now() has 1 ms steps; the stamp is converted from CLOCK_MONOTONIC.
    assert.ok(seen.at >= asked - 1 && seen.at <= answered + 1, `${asked} <= ${seen.at} <= ${answered}`);

    await lookedAgain(watch);
    assert.equal(told.length, 2, 'nothing changed: nothing told');
    await h.close(fd);
    await lookedAgain(watch);
    assert.deepEqual(told[2]?.files, [], 'closed again');
  });

  it('looks only at the processes it follows', async () => {
    const [a, b] = [holder(), holder()];
    const { watch, told, looked } = watching([ZERO], [a.pid, b.pid]);
    watches.push(watch);
    await looked;
    watch.follow([b.pid]);
    await a.open('/dev/zero');
    await b.open('/dev/zero');
    await lookedAgain(watch);
    const withFiles = told.filter((s) => s.files.length > 0).map((s) => s.pid);
    assert.deepEqual(withFiles, [b.pid]);
  });

  it('tells nothing of a process that is gone, and keeps looking at the others', async () => {
    const [gone, stays] = [holder(), holder()];
    const exited = new Promise((resolve) => gone.child.once('exit', resolve));
    gone.child.kill('SIGKILL');
    await exited;
    const { watch, told, looked } = watching([ZERO], [gone.pid, stays.pid]);
    watches.push(watch);
    await looked;
    await stays.open('/dev/zero');
    await lookedAgain(watch);
    assert.deepEqual(
      told.map((s) => [s.pid, s.files.length]),
      [
        [stays.pid, 0],
        [stays.pid, 1],
      ],
    );
  });

  it('closes once however often asked; a flush after the close resolves at once', async () => {
    const { watch } = watching([ZERO], [process.pid]);
    await Promise.all([watch.close(), watch.close()]);
    await watch.flush();
  });

  it('one started ahead serves the next filesWatch alone; the adapter’s close ends one left unused', async () => {
    // A worker's thread is made when the worker is: this process's task count tells which
    // call started one.
    const threads = (): number => readdirSync('/proc/self/task').length;
    const h = holder();
    const fd = await h.open('/dev/zero');
    const adapter = new LinuxKernelAdapter();
    const before = threads();
    adapter.prepareFilesWatch();
    adapter.prepareFilesWatch(); // one at a time: the second call keeps the first
    assert.equal(threads(), before + 1, 'the prepared watch started its thread');
    const toldA: FilesSighting[] = [];
    const toldB: FilesSighting[] = [];
    const a = adapter.filesWatch([ZERO], [h.pid], (s) => toldA.push(s));
    assert.equal(threads(), before + 1, 'the first watch is the prepared one');
    const b = adapter.filesWatch([ZERO], [h.pid], (s) => toldB.push(s));
    assert.equal(threads(), before + 2, 'the next one starts its own');
    assert.notEqual(a, b);
    watches.push(a, b);
    const sawFd = (told: FilesSighting[]) => told.some((s) => s.files.some((f) => f.fd === fd));
    for (let waited = 0; !(sawFd(toldA) && sawFd(toldB)); waited += 20) {
      assert.ok(waited < 30_000, 'both watches tell the holder’s file'); // a liveness bound, not a speed claim
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(toldA.length, 1, 'the prepared watch was told what to look for once');

    adapter.prepareFilesWatch();
    await adapter.close();
    adapter.prepareFilesWatch(); // closed: nothing is started
    await adapter.close();
  });

  it('left open, it does not keep the agent alive', async () => {
    const watchModule = new URL('../src/linux/holder-files.watch.js', import.meta.url).href;
    const script = `
      const { ProcHolderFilesWatch } = await import(${JSON.stringify(watchModule)});
      new ProcHolderFilesWatch('/proc', Date.now).watch(['${ZERO}'], [process.pid], () => undefined);
      new ProcHolderFilesWatch('/proc', Date.now); // started ahead, never told to watch
      console.log('watching');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000); // generous: a liveness bound, not a speed claim
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    clearTimeout(killer);
    assert.equal(out.trim(), 'watching');
    assert.deepEqual([code, signal], [0, null], 'exited by itself');
  });

  describe('zombies and new nodes', { skip: process.getuid?.() !== 0 && 'needs root (mknod)' }, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'hotswap-files-watch-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    function mknod(name: string): { path: string; ino: number } {
      const path = join(dir, name);
      const r = spawnSync('mknod', [path, 'c', '1', '5']);
      assert.equal(r.status, 0, `mknod failed: ${r.stderr}`);
      return { path, ino: statSync(path).ino };
    }

    it('skips a removed node (its zombie), then tells the new node at the same path once opened', async () => {
      const old = mknod('hs0');
      const h = holder();
      const zombie = await h.open(old.path);
      unlinkSync(old.path);
      const { watch, told, looked } = watching([ZERO], [h.pid]);
      watches.push(watch);
      await looked;
      assert.deepEqual(
        told.map((s) => s.files),
        [[]],
        'a " (deleted)" link is no new node',
      );

      const fresh = mknod('hs0');
      assert.notEqual(fresh.ino, old.ino);
      const fd = await h.open(fresh.path);
      await lookedAgain(watch);
      assert.deepEqual(told[1]?.files, [{ fd, path: fresh.path, deleted: false, rdev: ZERO, ino: fresh.ino }]);
      await h.close(zombie);
    });
  });
});
