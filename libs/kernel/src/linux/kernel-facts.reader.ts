import { join } from 'node:path';
import type { NodeStatFn } from './device-node.stat.js';
import { readKernelFile } from './kernel-file.reader.js';
import { validateModuleFile } from './kernel-name.validator.js';
import type { LinuxRoots } from './linux-roots.js';
import { modinfoField, modinfoSignature, type ModuleSignature } from './modinfo.parser.js';
import type { ModinfoReader } from './modinfo.reader.js';
import { parseMountinfo, parseSwaps } from './mountinfo.parser.js';
import { readTaint, type KernelTaint } from './taint.reader.js';

export type LockdownMode = 'none' | 'integrity' | 'confidentiality';

/** A block device in use by the system: mounted, or a swap partition. */
export interface MountedDevice {
  readonly rdev: string;
  readonly mountPoint: string;
  readonly fstype: string;
  readonly source: string;
}

export interface VermagicCheck {
  readonly ok: boolean;
  /** The module's vermagic, e.g. "6.1.0-56-amd64 SMP preempt mod_unload modversions". */
  readonly vermagic: string;
  readonly release: string;
}

/**
 * What preflight asks of the running kernel before touching anything. Every reader answers null
 * when its file is missing (an older kernel, a feature not built in, a captured tree without
 * it) rather than guessing.
 */
export class KernelFactsReader {
  constructor(
    private readonly roots: LinuxRoots,
    private readonly statNode: NodeStatFn,
    private readonly modinfo: ModinfoReader,
  ) {}

  /** `uname -r`, from PROC/sys/kernel/osrelease. */
  kernelRelease(): Promise<string | null> {
    return readKernelFile(join(this.roots.proc, 'sys', 'kernel', 'osrelease'));
  }

  taint(): Promise<KernelTaint | null> {
    return readTaint(this.roots.proc);
  }

  /** kernel.modules_disabled: once 1, no module can be loaded or unloaded until reboot. */
  async modulesDisabled(): Promise<boolean | null> {
    return flag(await readKernelFile(join(this.roots.proc, 'sys', 'kernel', 'modules_disabled')));
  }

  /** The bracketed mode of SYS/kernel/security/lockdown ("none [integrity] confidentiality"). */
  async lockdown(): Promise<LockdownMode | null> {
    const text = await readKernelFile(join(this.roots.sys, 'kernel', 'security', 'lockdown'));
    const mode = text === null ? undefined : /\[(\w+)\]/.exec(text)?.[1];
    return mode === 'none' || mode === 'integrity' || mode === 'confidentiality' ? mode : null;
  }

  /** module.sig_enforce: only validly signed modules load. */
  async sigEnforce(): Promise<boolean | null> {
    return flag(await readKernelFile(join(this.roots.sys, 'module', 'module', 'parameters', 'sig_enforce')));
  }

  /** Whether the file's vermagic names the running kernel; null when either cannot be read. */
  async vermagicOk(file: string): Promise<VermagicCheck | null> {
    validateModuleFile(file);
    const [fields, release] = await Promise.all([this.modinfo.tryFields(file), this.kernelRelease()]);
    const vermagic = fields ? modinfoField(fields, 'vermagic') : null;
    if (vermagic === null || release === null) return null;
    return { ok: vermagic.split(/\s+/)[0] === release, vermagic, release };
  }

  /**
   * The signature appended to a module file: 'unsigned' when modinfo shows none, null when the
   * file cannot be read. Only the kernel can verify it (against its keyring); this says whether
   * there is one to verify.
   */
  async signature(file: string): Promise<ModuleSignature | 'unsigned' | null> {
    validateModuleFile(file);
    const fields = await this.modinfo.tryFields(file);
    if (!fields) return null;
    return modinfoSignature(fields) ?? 'unsigned';
  }

  /**
   * Block devices backing mounted filesystems (PROC/self/mountinfo) and swap partitions
   * (PROC/swaps). Filesystems whose st_dev is anonymous (major 0: btrfs, overlay, tmpfs) count
   * through their source when it is a block device node.
   */
  async mountedDevices(): Promise<MountedDevice[] | null> {
    const text = await readKernelFile(join(this.roots.proc, 'self', 'mountinfo'));
    if (text === null) return null;
    const out: MountedDevice[] = [];
    const add = (d: MountedDevice) => {
      if (!out.some((o) => o.rdev === d.rdev && o.mountPoint === d.mountPoint)) out.push(d);
    };
    for (const m of parseMountinfo(text)) {
      if (!m.rdev.startsWith('0:')) add(m);
      else if (m.source.startsWith('/')) {
        const st = await this.statNode(this.underDevRoot(m.source)).catch(() => null);
        if (st?.kind === 'block' && st.rdev) add({ ...m, rdev: st.rdev });
      }
    }
    const swaps = await readKernelFile(join(this.roots.proc, 'swaps'));
    for (const swap of parseSwaps(swaps ?? '')) {
      if (swap.type !== 'partition') continue;
      const st = await this.statNode(this.underDevRoot(swap.path)).catch(() => null);
      if (st?.kind === 'block' && st.rdev)
        add({ rdev: st.rdev, mountPoint: '[swap]', fstype: 'swap', source: swap.path });
    }
    return out;
  }

  /** "/dev/vdb" as seen under the dev root (the same path on a real host). */
  private underDevRoot(path: string): string {
    return path.startsWith('/dev/') ? join(this.roots.dev, path.slice('/dev/'.length)) : path;
  }
}

function flag(text: string | null): boolean | null {
  if (text === null) return null;
  if (/^(1|Y|y)$/.test(text)) return true;
  if (/^(0|N|n)$/.test(text)) return false;
  return null;
}
