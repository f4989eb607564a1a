import { SimKernelAdapter, ensureSimHost, type KernelPort } from '@hotswap/kernel';
import { join, resolve } from 'node:path';
import type { AgentConfig } from '../config/agent.config.js';

/**
 * Builds the kernel port the config asks for. With `sim`, the simulated host lives in its own
 * process (as a real kernel outlives the agent): it is started on first use and reused by an
 * agent restarted against the same socket.
 */
export async function createKernelPort(config: AgentConfig): Promise<KernelPort> {
  const socketPath = config.simSocket ?? join(config.stateDir, 'sim-host.sock');
  await ensureSimHost({ scenarioPath: resolve(config.scenario ?? ''), socketPath });
  return SimKernelAdapter.connect(socketPath);
}
