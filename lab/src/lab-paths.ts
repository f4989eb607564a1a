import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The clone's root: this file runs from lab/dist/src/. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** The lab's data: scenarios, the reference application's source, the guest's scripts. */
export const KERNEL_LAB_DIR = join(REPO_ROOT, 'test', 'kernel');
export const SCENARIOS_DIR = join(KERNEL_LAB_DIR, 'scenarios');
export const GUEST_DIR = join(KERNEL_LAB_DIR, 'guest');

/** The agent's compiled one-host mode, bundled into one file for the guest. */
export const AGENT_ONE_HOST_ENTRY = join(REPO_ROOT, 'apps', 'agent', 'dist', 'src', 'one-host', 'one-host.command.js');
export const NODE_PTY_DIR = join(REPO_ROOT, 'node_modules', 'node-pty');

/**
 * Everything downloaded or generated lives outside the clone, so CI keeps it between runs
 * and `git status` stays clean: `${XDG_CACHE_HOME:-~/.cache}/hotswap-lab`.
 */
export function labCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.HOTSWAP_LAB_CACHE ?? join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hotswap-lab');
  return resolve(base);
}
