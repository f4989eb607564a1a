import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { FilesSighting } from '../src/kernel.port.js';
import { LinuxKernelAdapter } from '../src/linux/linux.adapter.js';

/** /dev/zero's number: a node made with it opens, and nothing of ours depends on it. */
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

const mine = (sightings: FilesSighting[], pid: number): FilesSighting | undefined =>
  sightings.find((s) => s.pid === pid);

describe(
  'linux adapter, the files probe of known holders',
  { skip: process.getuid?.() !== 0 && 'needs root (mknod)' },
  () => {
    let dir: string;
    const holders: Holder[] = [];
    const kernel = new LinuxKernelAdapter();

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'hotswap-probe-'));
    });
    afterEach(() => {
      for (const h of holders.splice(0)) if (h.child.exitCode === null) h.child.kill('SIGKILL');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    function mknod(name: string): { path: string; ino: number } {
      const path = join(dir, name);
      const r = spawnSync('mknod', [path, 'c', '1', '5']);
      assert.equal(r.status, 0, `mknod failed: ${r.stderr}`);
      return { path, ino: statSync(path).ino };
    }

    it('sees a holder’s files on the wanted numbers, stamped between asking and answering', async () => {
      const node = mknod('hs0');
      const holder = new Holder();
      holders.push(holder);
      const fd = await holder.open(node.path);
      await holder.open('/dev/null'); // another device: not wanted
      const probe = kernel.filesProbe([ZERO]);

      const asked = Date.now();
      const sighting = mine(await probe.sight([holder.pid]), holder.pid);
      const answered = Date.now();
      assert.ok(sighting, 'the live holder is in the answer');
      assert.deepEqual(sighting.files, [{ fd, path: node.path, deleted: false, rdev: ZERO, ino: node.ino }]);
      assert.ok(sighting.at >= asked && sighting.at <= answered, `${asked} <= ${sighting.at} <= ${answered}`);
    });

    it('skips a removed node (its zombie), then sees the new node at the same path once opened', async () => {
      const old = mknod('hs1');
      const holder = new Holder();
      holders.push(holder);
      const zombie = await holder.open(old.path);
      const probe = kernel.filesProbe([ZERO]);
      unlinkSync(old.path);
      assert.deepEqual(
        mine(await probe.sight([holder.pid]), holder.pid)?.files,
        [],
        'a " (deleted)" link is no new node',
      );

      const fresh = mknod('hs1');
      assert.notEqual(fresh.ino, old.ino);
      assert.deepEqual(mine(await probe.sight([holder.pid]), holder.pid)?.files, [], 'not opened yet');
      const opened = Date.now();
      const fd = await holder.open(fresh.path);
      const sighting = mine(await probe.sight([holder.pid]), holder.pid);
      assert.deepEqual(sighting?.files, [{ fd, path: fresh.path, deleted: false, rdev: ZERO, ino: fresh.ino }]);
      assert.ok((sighting?.at ?? 0) >= opened);
      await holder.close(zombie);
      await holder.close(fd);
      assert.deepEqual(mine(await probe.sight([holder.pid]), holder.pid)?.files, [], 'closed again');
    });

    it('leaves out a process that is gone, and one never asked about', async () => {
      const node = mknod('hs2');
      const holder = new Holder();
      const other = new Holder();
      holders.push(holder, other);
      await holder.open(node.path);
      await other.open(node.path);
      const probe = kernel.filesProbe([ZERO]);
      assert.deepEqual(
        (await probe.sight([holder.pid])).map((s) => s.pid),
        [holder.pid],
      );
      const exited = new Promise((resolve) => holder.child.once('exit', resolve));
      holder.child.kill('SIGKILL');
      await exited;
      assert.deepEqual(await probe.sight([holder.pid]), []);
    });
  },
);
