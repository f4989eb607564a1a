import { lookup } from 'node:dns/promises';
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
  /**
   * @param redisHosts where the agent reaches Redis (names or addresses); none when it needs no
   *   network for it (a unix socket, or the one-host mode without Redis).
   */
  constructor(
    private readonly kernel: LinuxKernelAdapter,
    private readonly redisHosts: readonly string[] = [],
  ) {}

  async preflight(input: {
    devices: readonly BoundDevice[];
    targets: readonly ModuleTarget[];
  }): Promise<{ refusals: string[]; notes: string[] }> {
    const refusals: string[] = [];
    const notes: string[] = [];
    if ((await this.kernel.modulesDisabled()) === true) {
      refusals.push('kernel.modules_disabled is set: no module can be loaded until the next boot');
    }
    const lockdown = await this.kernel.lockdown();
    const enforced = (await this.kernel.sigEnforce()) === true || (lockdown !== null && lockdown !== 'none');
    const why = lockdown && lockdown !== 'none' ? `kernel lockdown (${lockdown})` : 'module.sig_enforce';
    for (const target of input.targets) {
      const magic = await this.kernel.vermagicOk(target.file);
      if (magic && !magic.ok) {
        refusals.push(
          `${target.file}: vermagic "${magic.vermagic}" does not match the running kernel ${magic.release}`,
        );
      }
      try {
        await this.kernel.showDepends(target.module);
      } catch (error) {
        refusals.push(`modprobe -n --show-depends ${target.module} failed: ${(error as Error).message}`);
      }
      if (enforced)
        this.signatureCheck(target.file, why, await this.kernel.moduleSignature(target.file), refusals, notes);
    }
    const mounted = (await this.kernel.mountedDevices()) ?? [];
    for (const device of input.devices) {
      const backing = mounted.filter((m) => device.nodes.some((n) => n.rdev === m.rdev));
      for (const m of backing) {
        refusals.push(
          `device ${device.id} backs ${m.source} mounted on ${m.mountPoint} (${m.fstype}): unmount it first`,
        );
      }
    }
    refusals.push(...(await this.redisPathRefusals(input.devices)));
    return { refusals, notes };
  }

  /**
   * Under signature enforcement only signed modules load. The agent cannot verify a signature
   * (the kernel does, against its keyring); it refuses a target without one, and says which
   * key signed one that has it.
   */
  private signatureCheck(
    file: string,
    why: string,
    signature: Awaited<ReturnType<LinuxKernelAdapter['moduleSignature']>>,
    refusals: string[],
    notes: string[],
  ): void {
    if (signature === 'unsigned') {
      refusals.push(`${why} is on and ${file} carries no signature: the kernel would refuse to load it; sign it`);
    } else if (signature === null) {
      refusals.push(`${why} is on and the signature of ${file} cannot be read (modinfo failed)`);
    } else {
      const by = signature.signer ? `signed by "${signature.signer}"` : 'signed';
      const key = signature.sigKey ? ` (key ${signature.sigKey})` : '';
      notes.push(`${why} is on: ${file} is ${by}${key}; the kernel checks it against its keyring at load`);
    }
  }

  /** A device the agent's own traffic to Redis goes through must not be unbound under it. */
  private async redisPathRefusals(devices: readonly BoundDevice[]): Promise<string[]> {
    const refusals = new Set<string>();
    for (const host of this.redisHosts) {
      let addresses: string[];
      try {
        addresses = (await lookup(host, { all: true })).map((a) => a.address);
      } catch (error) {
        refusals.add(`cannot resolve the Redis host ${host} to check the route to it: ${(error as Error).message}`);
        continue;
      }
      for (const address of addresses) {
        const route = await this.kernel.routeDevice(address);
        if (!route?.deviceDir) continue;
        for (const device of devices) {
          const dir = await this.kernel.deviceDir(device);
          if (dir === null || (route.deviceDir !== dir && !route.deviceDir.startsWith(`${dir}/`))) continue;
          refusals.add(
            `device ${device.bus}/${device.id} carries ${route.iface}, the agent's route to Redis (${host}, ${address}): ` +
              'unbinding it would cut the agent off; swap it from the one-host mode or over another network',
          );
        }
      }
    }
    return [...refusals];
  }

  modprobeDependencies(module: string): Promise<string[] | null> {
    return this.kernel.modprobeDependencies(module);
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
