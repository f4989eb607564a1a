/**
 * Census speed (issue 4: "a census of a host with a thousand processes must take well under a
 * second"). Spawns 1,000 sleeping processes, 20 of which hold a device node (/dev/null's
 * number, on a node made with mknod), and times LinuxKernelAdapter.census against a baseline
 * in the same run: the obvious synchronous scan (readdirSync + statSync of every
 * /proc/PID/fd/N; it blocks the event loop and reads no links, maps or cgroups, so it is a
 * floor, not an equivalent). Prints both and their ratio; asserts nothing (machines here are
 * shared).
 *
 *   npm run bench:census        (as root: mknod)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinuxKernelAdapter } from '@hotswap/kernel';

const SLEEPERS = 1000;
const HOLDERS = 20;
const ROUNDS = 5;
const RDEV = '1:3';

function baselineCensus(): number {
  let found = 0;
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const st = statSync(`/proc/${pid}/fd/${fd}`);
        if (`${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}` === RDEV) found++;
      } catch {
        // vanished mid-scan
      }
    }
  }
  return found;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-bench-'));
  const node = join(dir, 'hs-bench0');
  execFileSync('mknod', [node, 'c', '1', '3']);
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < SLEEPERS; i++) children.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
    for (let i = 0; i < HOLDERS; i++) {
      children.push(spawn('sh', ['-c', `exec 3<>${node}; exec sleep 600`], { stdio: 'ignore' }));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const adapter = new LinuxKernelAdapter({});
    const time = async (fn: () => unknown): Promise<number[]> => {
      const ms: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const t0 = performance.now();
        await fn();
        ms.push(performance.now() - t0);
      }
      return ms.sort((a, b) => a - b);
    };
    const holders = (await adapter.census([RDEV])).filter((h) => h.files.some((f) => f.path === node));
    const ours = await time(() => adapter.census([RDEV]));
    const base = await time(baselineCensus);
    const processes = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    const median = (xs: number[]): number => xs[Math.floor(xs.length / 2)]!;
    console.log(`census bench: ${processes} processes, ${holders.length}/${HOLDERS} holders of the bench node found`);
    console.log(
      `  LinuxKernelAdapter.census  median ${median(ours).toFixed(1)} ms (min ${ours[0]!.toFixed(1)}, max ${ours.at(-1)!.toFixed(1)})`,
    );
    console.log(
      `  baseline sync scan         median ${median(base).toFixed(1)} ms (min ${base[0]!.toFixed(1)}, max ${base.at(-1)!.toFixed(1)})`,
    );
    console.log(`  ratio census / baseline    ${(median(ours) / median(base)).toFixed(2)}`);
    await adapter.close();
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
