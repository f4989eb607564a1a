import { LinuxKernelAdapter, SimKernelAdapter, ensureSimHost, type KernelPort } from '@hotswap/kernel';
import { join, resolve } from 'node:path';
import type { HostFacts } from './host-facts.js';
import { LinuxHostFacts } from './linux-host.facts.js';
import { redisHostsOf } from './redis-host.js';

/** The host's kernel as the agent reaches it: the port, and the host facts the adapter offers. */
export interface KernelAccess {
  readonly port: KernelPort;
  readonly facts: HostFacts | null;
}

export interface KernelChoice {
  readonly kernel: 'sim' | 'linux';
  readonly scenario?: string | undefined;
  readonly simSocket?: string | undefined;
  readonly stateDir: string;
  /** The Redis URL the agent uses: preflight refuses to unbind the network device on its route. Absent in one-host mode. */
  readonly redisUrl?: string | undefined;
}

/**
 * Builds the kernel access the config asks for. `linux` is the real host (sysfs, procfs,
 * modprobe). With `sim`, the simulated host lives in its own process (as a real kernel outlives
 * the agent): it is started on first use and reused by an agent restarted against the same socket.
 */
export async function createKernelAccess(choice: KernelChoice): Promise<KernelAccess> {
  if (choice.kernel === 'linux') {
    const adapter = new LinuxKernelAdapter({});
    const redisHosts = choice.redisUrl === undefined ? [] : redisHostsOf(choice.redisUrl);
    return { port: adapter, facts: new LinuxHostFacts(adapter, redisHosts) };
  }
  const socketPath = choice.simSocket ?? join(choice.stateDir, 'sim-host.sock');
  await ensureSimHost({ scenarioPath: resolve(choice.scenario ?? ''), socketPath });
  return { port: await SimKernelAdapter.connect(socketPath), facts: null };
}
