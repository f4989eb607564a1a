import type { BoundDevice, KmsgCursor, LinuxKernelAdapter, ModuleTarget } from '@hotswap/kernel';
import type { HostFacts, KernelEvidence } from './host-facts.js';

interface LinuxMark {
  readonly taint: string | null;
  readonly cursor: KmsgCursor | null;
}

/**
 * Preflight refusals and kernel evidence on a real Linux host. Every check reads what the
 * kernel exposes and refuses with a reason a person can act on; a fact the kernel does not
 * expose (an older kernel, a missing file) is not held against the swap.
 */
export class LinuxHostFacts implements HostFacts {
  constructor(private readonly kernel: LinuxKernelAdapter) {}

  async refusals(input: { devices: readonly BoundDevice[]; targets: readonly ModuleTarget[] }): Promise<string[]> {
    const reasons: string[] = [];
    if ((await this.kernel.modulesDisabled()) === true) {
      reasons.push('kernel.modules_disabled is set: no module can be loaded until the next boot');
    }
    const lockdown = await this.kernel.lockdown();
    const enforced = (await this.kernel.sigEnforce()) === true || (lockdown !== null && lockdown !== 'none');
    for (const target of input.targets) {
      const magic = await this.kernel.vermagicOk(target.file);
      if (magic && !magic.ok) {
        reasons.push(`${target.file}: vermagic "${magic.vermagic}" does not match the running kernel ${magic.release}`);
      }
      try {
        await this.kernel.showDepends(target.module);
      } catch (error) {
        reasons.push(`modprobe -n --show-depends ${target.module} failed: ${(error as Error).message}`);
      }
    }
    if (enforced) {
      const why = lockdown && lockdown !== 'none' ? `kernel lockdown (${lockdown})` : 'module.sig_enforce';
      reasons.push(`${why} is on: only signed modules load; sign the target modules and say so in the runbook`);
    }
    const mounted = (await this.kernel.mountedDevices()) ?? [];
    for (const device of input.devices) {
      const backing = mounted.filter((m) => device.nodes.some((n) => n.rdev === m.rdev));
      for (const m of backing) {
        reasons.push(
          `device ${device.id} backs ${m.source} mounted on ${m.mountPoint} (${m.fstype}): unmount it first`,
        );
      }
    }
    return reasons;
  }

  async mark(): Promise<LinuxMark> {
    return { taint: (await this.kernel.taint())?.flags ?? null, cursor: await this.kernel.kmsgCursor() };
  }

  async evidence(mark: unknown): Promise<KernelEvidence> {
    const start = mark as LinuxMark;
    const since = start.cursor ? await this.kernel.kmsgSince(start.cursor) : null;
    return {
      taintBefore: start.taint,
      taintAfter: (await this.kernel.taint())?.flags ?? null,
      log: since?.records.map((r) => r.message) ?? [],
      logIncomplete: since === null || since.lost,
    };
  }
}
