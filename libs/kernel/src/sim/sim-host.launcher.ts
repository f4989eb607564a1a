import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimKernelAdapter } from './sim.adapter.js';

export interface EnsureSimHostOptions {
  readonly scenarioPath: string;
  readonly socketPath: string;
  /** Where the host's stdout/stderr go; default `<socketPath>.log`. */
  readonly logPath?: string;
  /** How long to wait for a spawned host to listen; default 10 s. */
  readonly readyTimeoutMs?: number;
}

/** A sim host known to be listening. Connect to it with `SimKernelAdapter.connect(socketPath)`. */
export interface SimHostHandle {
  readonly socketPath: string;
  /** The sim host's process id. */
  readonly pid: number;
  /** Whether this call started it (false: it was already running, e.g. for a restarted agent). */
  readonly started: boolean;
}

const mainPath = fileURLToPath(new URL('./sim-host.main.js', import.meta.url));

/**
 * Makes sure a sim host listens on `socketPath`, starting one if none does. A started host is
 * detached and unref'd: like a real kernel it outlives the agent, so a killed and restarted
 * agent finds the same host, mid-swap state included. Holds no connection once it returns.
 */
export async function ensureSimHost(options: EnsureSimHostOptions): Promise<SimHostHandle> {
  const socketPath = resolve(options.socketPath);
  const running = await probe(socketPath);
  if (running !== null) return { socketPath, pid: running, started: false };

  const logPath = options.logPath ?? `${socketPath}.log`;
  await mkdir(dirname(socketPath), { recursive: true });
  const log = openSync(logPath, 'a');
  const child = spawn(
    process.execPath,
    [mainPath, '--scenario', resolve(options.scenarioPath), '--socket', socketPath],
    {
      detached: true,
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  let exitCode: number | null = null;
  child.once('exit', (code, signal) => (exitCode = code ?? (signal ? 128 : 1)));
  child.unref();

  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  for (;;) {
    // Probing first: if a concurrent caller's host won the socket, that one is the host.
    const pid = await probe(socketPath);
    if (pid !== null) return { socketPath, pid, started: pid === child.pid };
    if (exitCode !== null || Date.now() > deadline) {
      if (exitCode === null) child.kill('SIGTERM');
      const tail = (await readFile(logPath, 'utf8').catch(() => '')).trim().split('\n').slice(-10).join('\n');
      const why = exitCode === null ? 'did not listen in time' : `exited with code ${exitCode}`;
      throw new Error(`sim host for ${socketPath} ${why}; ${logPath}:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The pid of the sim host answering on the socket, or null when none does. */
async function probe(socketPath: string): Promise<number | null> {
  const adapter = await SimKernelAdapter.connect(socketPath).catch(() => null);
  if (!adapter) return null;
  try {
    return (await adapter.hostInfo()).pid;
  } finally {
    await adapter.close();
  }
}
