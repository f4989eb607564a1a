import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Holder } from '../src/kernel.port.js';
import { parseCgroup } from '../src/linux/cgroup.parser.js';
import { LinuxKernelAdapter } from '../src/linux/linux.adapter.js';

/** /dev/zero's number: opening and mapping a node made with it works, and nothing of ours depends on it. */
const ZERO = '1:5';
const hasPython = spawnSync('python3', ['-c', 'import mmap'], { stdio: 'ignore' }).status === 0;

const HOLD_AND_MAP = `
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096, mmap.MAP_PRIVATE)
print(fd, flush=True)
sys.stdin.read()
`;

/** The processes these tests start, killed by pid afterwards. */
const children: ChildProcess[] = [];

function mknod(path: string, rdev: string): void {
  const [major, minor] = rdev.split(':') as [string, string];
  const r = spawnSync('mknod', [path, 'c', major, minor]);
  assert.equal(r.status, 0, `mknod failed: ${r.stderr}`);
}

/** `sleep` whose stdin is `path` (the parent closes its own fd right after the spawn). */
function sleeperOn(path: string | null): ChildProcess {
  const fd = path === null ? 'ignore' : openSync(path, 'r');
  const child = spawn('sleep', ['1000'], { stdio: [fd, 'ignore', 'ignore'] });
  if (typeof fd === 'number') closeSync(fd);
  children.push(child);
  return child;
}

/** python3 holding `path` open and mapped (MAP_PRIVATE keeps the node as the mapping's file). */
async function mapperOn(path: string): Promise<{ child: ChildProcess; fd: number }> {
  const child = spawn('python3', ['-c', HOLD_AND_MAP, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`python3 exited (${code})`)));
  });
  return { child, fd: Number(line) };
}

/** The mapper's files: its fd, and the duplicate Python's mmap object keeps (the next free fd). */
const mapperFiles = (fd: number, path: string, deleted: boolean, ino: number) =>
  [fd, fd + 1].map((n) => ({ fd: n, path, deleted, rdev: ZERO, ino }));

const mine = (holders: Holder[], ...pids: (number | undefined)[]) =>
  holders.filter((h) => pids.includes(h.pid)).sort((a, b) => pids.indexOf(a.pid) - pids.indexOf(b.pid));

function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  children.length = 0;
}

describe('linux adapter, census of real processes', () => {
  let dir: string;
  let node: string;
  const kernel = new LinuxKernelAdapter();

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotswap-census-'));
    node = join(dir, 'hsnode0');
    mknod(node, ZERO);
  });
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'finds FDs and mappings by rdev and inode; after the node is recreated, old FDs are zombies',
    { skip: !hasPython && 'python3 with mmap is needed' },
    async () => {
      const oldIno = statSync(node).ino;
      const mapper = await mapperOn(node);
      const sleeper = sleeperOn(node);
      const idle = sleeperOn(null);

      let holders = mine(await kernel.census([ZERO]), mapper.child.pid, sleeper.pid, idle.pid);
      assert.deepEqual(
        holders.map((h) => [h.pid, h.files, h.mappings]),
        [
          [
            mapper.child.pid,
            mapperFiles(mapper.fd, node, false, oldIno),
            [{ path: node, deleted: false, rdev: ZERO, ino: oldIno }],
          ],
          [sleeper.pid, [{ fd: 0, path: node, deleted: false, rdev: ZERO, ino: oldIno }], []],
        ],
        'the idle process holds nothing on the node and is not a holder',
      );
      assert.equal(holders[0]?.comm, 'python3');
      assert.equal(holders[1]?.comm, 'sleep');
      const expectedUnit = parseCgroup(readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8')).unit;
      assert.equal(holders[1]?.unit, expectedUnit);

      // The driver goes away and comes back: the node is removed and created again, same number.
      unlinkSync(node);
      mknod(node, ZERO);
      const newIno = statSync(node).ino;
      assert.notEqual(newIno, oldIno);
      const reopened = sleeperOn(node);

      holders = mine(await kernel.census([ZERO]), mapper.child.pid, sleeper.pid, reopened.pid);
      assert.deepEqual(
        holders.map((h) => [h.pid, h.files, h.mappings]),
        [
          [
            mapper.child.pid,
            mapperFiles(mapper.fd, node, true, oldIno),
            [{ path: node, deleted: true, rdev: ZERO, ino: oldIno }],
          ],
          [sleeper.pid, [{ fd: 0, path: node, deleted: true, rdev: ZERO, ino: oldIno }], []],
          [reopened.pid, [{ fd: 0, path: node, deleted: false, rdev: ZERO, ino: newIno }], []],
        ],
        'same path and number: only the inode tells the zombie FDs from the recovered one',
      );

      // watch: every process of the scope, holding or not; an exited one disappears.
      const scope = { pids: [mapper.child.pid!, sleeper.pid!, reopened.pid!, idle.pid!], units: [] };
      let watched = await kernel.watch(scope, [ZERO]);
      assert.deepEqual(
        watched.map((h) => [h.pid, h.files.map((f) => f.ino)]),
        [
          [mapper.child.pid, [oldIno, oldIno]],
          [sleeper.pid, [oldIno]],
          [reopened.pid, [newIno]],
          [idle.pid, []],
        ].sort((a, b) => (a[0] as number) - (b[0] as number)),
      );
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
      watched = await kernel.watch(scope, [ZERO]);
      assert.equal(
        watched.find((h) => h.pid === sleeper.pid),
        undefined,
        'an exited process is missing from the answer',
      );
      assert.equal(watched.length, 3);
    },
  );

  it('skips processes and FDs that vanish during the scan', async () => {
    const flock: ChildProcess[] = [];
    for (let i = 0; i < 40; i++) flock.push(sleeperOn(node));
    const census = kernel.census([ZERO]);
    for (const c of flock) c.kill('SIGKILL'); // while the census reads /proc
    const holders = await census;
    assert.ok(Array.isArray(holders));
    for (const h of holders) for (const f of h.files) assert.equal(f.rdev, ZERO);
  });

  it('answers [] for no rdevs, and an empty watch for pids that do not exist', async () => {
    assert.deepEqual(await kernel.census([]), []);
    assert.deepEqual(await kernel.watch({ pids: [2 ** 22 + 7], units: [] }, [ZERO]), []);
  });

  it('reads a whole machine with 1,000 extra processes quickly (the figure is printed, not asserted)', async (t) => {
    const extra: ChildProcess[] = [];
    for (let i = 0; i < 1000; i++) extra.push(sleeperOn(null));
    await Promise.all(extra.map((c) => new Promise((resolve) => c.once('spawn', resolve))));
    await sleep(1000); // let the thousand execs settle: measure the census, not the spawn storm
    const total = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    await kernel.census([ZERO]); // warm-up (page cache, JIT)
    const timings: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [t0, cpu0] = [performance.now(), process.cpuUsage()];
      await kernel.census([ZERO]);
      const cpu = process.cpuUsage(cpu0);
      timings.push(`${(performance.now() - t0).toFixed(0)} ms (cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms)`);
    }
    const t0 = performance.now();
    const watched = await kernel.watch({ pids: extra.slice(0, 10).map((c) => c.pid!), units: [] }, [ZERO]);
    const watchMs = performance.now() - t0;
    assert.equal(watched.length, 10);
    t.diagnostic(
      `census of ${total} processes: ${timings.join(', ')}; watch of 10 pids: ${watchMs.toFixed(1)} ms; load ${loadavg()[0]?.toFixed(1)}`,
    );
    for (const c of extra) c.kill('SIGKILL');
  });
});

/**
 * Units, with real processes seen through a proc root of links into /proc (fd, maps, comm, stat)
 * whose `cgroup` file says "system.slice/app.service", and a cgroup tree listing the pids: the
 * census names the unit, and watch finds a process of the unit it never saw (a restarted service).
 */
describe('linux adapter, units of real processes', () => {
  let dir: string;
  let node: string;
  let proc: string;
  let sys: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hotswap-units-'));
    node = join(dir, 'hsnode1');
    mknod(node, ZERO);
    proc = join(dir, 'proc');
    sys = join(dir, 'sys');
    mkdirSync(join(sys, 'fs/cgroup/system.slice/app.service'), { recursive: true });
  });
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const enlist = (pid: number, unitPath: string | null) => {
    const base = join(proc, String(pid));
    mkdirSync(base, { recursive: true });
    for (const f of ['fd', 'maps', 'map_files', 'comm', 'stat']) symlinkSync(`/proc/${pid}/${f}`, join(base, f));
    writeFileSync(join(base, 'cgroup'), unitPath ? `0::${unitPath}\n` : '0::/\n');
  };
  const members = (...pids: number[]) =>
    writeFileSync(join(sys, 'fs/cgroup/system.slice/app.service/cgroup.procs'), pids.map((p) => `${p}\n`).join(''));

  it('names the systemd unit of a holder and follows the unit to a new pid', async () => {
    const kernel = new LinuxKernelAdapter({ roots: { proc, sys, dev: dir } });
    const first = sleeperOn(node);
    enlist(first.pid!, '/system.slice/app.service');
    members(first.pid!);

    const [holder] = await kernel.census([ZERO]);
    assert.equal(holder?.pid, first.pid);
    assert.equal(holder?.unit, 'app.service');

    // The service restarts: a new pid opens the node, the old one exits.
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const second = sleeperOn(node);
    enlist(second.pid!, '/system.slice/app.service');
    members(second.pid!);
    const watched = await kernel.watch({ pids: [first.pid!], units: ['app.service'] }, [ZERO]);
    assert.deepEqual(
      watched.map((h) => [h.pid, h.unit, h.files.length]),
      [[second.pid, 'app.service', 1]],
    );
  });

  it("without a known cgroup path, finds unit members by reading every process's cgroup", async () => {
    const kernel = new LinuxKernelAdapter({ roots: { proc, sys: join(dir, 'nosys'), dev: dir } });
    const member = sleeperOn(null);
    enlist(member.pid!, '/system.slice/other.service');
    const watched = await kernel.watch({ pids: [], units: ['other.service'] }, [ZERO]);
    assert.deepEqual(
      watched.map((h) => [h.pid, h.unit]),
      [[member.pid, 'other.service']],
    );
  });

  it(
    'matches mappings by inode when map_files is not available',
    { skip: !hasPython && 'python3 with mmap is needed' },
    async () => {
      const kernel = new LinuxKernelAdapter({ roots: { proc, sys, dev: dir } });
      const mapper = await mapperOn(node);
      const base = join(proc, String(mapper.child.pid));
      mkdirSync(base, { recursive: true });
      for (const f of ['fd', 'maps', 'comm', 'stat']) symlinkSync(`/proc/${mapper.child.pid}/${f}`, join(base, f));
      writeFileSync(join(base, 'cgroup'), '0::/\n'); // and no map_files: a kernel without CONFIG_CHECKPOINT_RESTORE
      const holder = (await kernel.census([ZERO])).find((h) => h.pid === mapper.child.pid);
      assert.deepEqual(holder?.mappings, [{ path: node, deleted: false, rdev: ZERO, ino: statSync(node).ino }]);
    },
  );
});
