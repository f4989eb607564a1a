import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { packCpio } from './cpio.js';
import { exec, timed } from './exec.js';
import type { KernelTree } from './kernel-cache.js';
import { LabInfraError } from './lab.errors.js';
import type { Progress } from './progress.js';
import { qemuArgs, type Accel } from './qemu.args.js';
import { bootGuest, QEMU } from './qemu.boot.js';

export type AccelRequest = Accel | 'auto';

export interface AccelChoice {
  readonly accel: Accel;
  readonly reason: string;
  /** Null when no probe ran (forced, no /dev/kvm, or the verdict was cached). */
  readonly probeMs: number | null;
}

const MARKER = 'LAB-PROBE-INIT-REACHED';
/** Under KVM a guest reaches init in a few seconds; a guest that has not by then does not boot. */
const PROBE_SECONDS = 12;

async function kvmUsable(): Promise<boolean> {
  const handle = await open('/dev/kvm', 'r+').catch(() => null);
  await handle?.close();
  return handle !== null;
}

/** A tiny initramfs whose /init only says it was reached. */
async function probeInitrd(dir: string): Promise<string> {
  const root = join(dir, 'root');
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'dev'), { recursive: true });
  await exec('mknod', ['-m', '600', join(root, 'dev', 'console'), 'c', '5', '1']);
  await writeFile(join(root, 'bin', 'busybox'), await readFile('/bin/busybox'), { mode: 0o755 });
  await writeFile(join(root, 'init'), `#!/bin/busybox sh\n/bin/busybox echo ${MARKER}\n/bin/busybox poweroff -f\n`, {
    mode: 0o755,
  });
  const initrd = join(dir, 'probe.cpio');
  await packCpio(root, initrd);
  return initrd;
}

async function probeKvm(kernel: KernelTree, dir: string): Promise<{ ok: boolean; detail: string }> {
  await mkdir(dir, { recursive: true });
  const initrd = await probeInitrd(dir);
  const args = qemuArgs({
    accel: 'kvm',
    kernel: kernel.vmlinuz,
    initrd,
    memoryMiB: 256,
    smp: 1,
    resultsSocket: null,
    kernelArgs: [],
    extraArgs: [],
  });
  const boot = await bootGuest({
    args,
    timeoutSeconds: PROBE_SECONDS,
    consoleLog: join(dir, 'console.log'),
    resultsSocket: null,
    stopOnConsole: (line) => line.includes(MARKER),
  });
  if (boot.stoppedEarly) return { ok: true, detail: `init reached in ${boot.wallMs} ms` };
  const last = boot.consoleTail.filter((line) => line.trim() !== '').slice(-1)[0] ?? '';
  return {
    ok: false,
    detail: boot.timedOut ? `no init within ${PROBE_SECONDS} s` : `QEMU exited ${boot.exitCode}: ${last.trim()}`,
  };
}

/**
 * KVM only if a probe boot with it reaches init within a few seconds on this host (on these
 * machines /dev/kvm opens but a guest hangs or aborts); else TCG. The verdict is cached per
 * host kernel, QEMU version, guest kernel and CPU model.
 */
export async function chooseAccel(
  request: AccelRequest,
  kernel: KernelTree,
  cacheRoot: string,
  progress: Progress,
): Promise<AccelChoice> {
  if (request === 'tcg') return { accel: 'tcg', reason: 'forced with --accel tcg', probeMs: null };
  if (!(await kvmUsable())) {
    if (request === 'kvm') throw new LabInfraError('--accel kvm: /dev/kvm cannot be opened');
    return { accel: 'tcg', reason: '/dev/kvm cannot be opened', probeMs: null };
  }
  const qemuVersion = (await exec(QEMU, ['--version'])).stdout.split('\n')[0] ?? '';
  const key = [release(), qemuVersion, kernel.release, cpus()[0]?.model ?? ''].join(' | ');
  const cacheFile = join(cacheRoot, 'accel-probe.json');
  const verdicts = JSON.parse(await readFile(cacheFile, 'utf8').catch(() => '{}')) as Record<
    string,
    { ok: boolean; detail: string }
  >;
  let verdict = verdicts[key];
  let probeMs: number | null = null;
  if (!verdict) {
    progress(`probing KVM (a boot must reach init within ${PROBE_SECONDS} s)`);
    const probed = await timed(() => probeKvm(kernel, join(cacheRoot, 'probe')));
    verdict = probed.value;
    probeMs = probed.ms;
    verdicts[key] = verdict;
    await writeFile(cacheFile, `${JSON.stringify(verdicts, null, 2)}\n`);
  }
  const cached = probeMs === null ? ' (cached probe verdict)' : '';
  if (verdict.ok) return { accel: 'kvm', reason: `KVM probe: ${verdict.detail}${cached}`, probeMs };
  if (request === 'kvm') throw new LabInfraError(`--accel kvm: the KVM probe failed: ${verdict.detail}`);
  return { accel: 'tcg', reason: `KVM probe failed (${verdict.detail})${cached}: using TCG`, probeMs };
}
