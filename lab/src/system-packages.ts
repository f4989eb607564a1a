import { exec, execOk } from './exec.js';
import { LabInfraError } from './lab.errors.js';
import type { Progress } from './progress.js';

/**
 * The Debian packages the lab needs on the host. Checked by package (dpkg status), not by
 * command: Debian's dynamic `busybox` also provides /bin/busybox, but the guest needs the
 * static one. The same shape as tools/src/system-deps.ts, kept here so the lab owns its list.
 */
export const LAB_PACKAGES: readonly string[] = [
  'qemu-system-x86', // qemu-system-x86_64 and its firmware
  'busybox-static', // the guest's shell and tools, one static binary
  'cpio', // packs the initramfs
  'kmod', // depmod on the host; modprobe/insmod/rmmod/modinfo copied into the guest
  'gcc', // builds the reference application...
  'libc6-dev', // ...statically
];

async function installed(pkg: string): Promise<boolean> {
  const result = await exec('dpkg-query', ['-W', '-f=${Status}', pkg]);
  return result.code === 0 && result.stdout.trim() === 'install ok installed';
}

/** Installs what is missing with apt-get (root, non-interactive); returns what it installed. */
export async function ensureLabPackages(progress: Progress): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of LAB_PACKAGES) if (!(await installed(pkg))) missing.push(pkg);
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) {
    throw new LabInfraError(
      `missing Debian packages ${missing.join(', ')}: run the lab as root, or "sudo apt-get install -y ${missing.join(' ')}"`,
    );
  }
  progress(`installing ${missing.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await execOk('apt-get', ['update', '-qq'], { env });
  // Other jobs on the machine may hold dpkg's lock: wait for it rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  await execOk('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  return missing;
}
