import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * A real child process of the fleet (controller, agent, simulated host) started by the tests
 * and the demo. It announces itself with one JSON line on stdout; stderr goes to a log file.
 */
export interface FleetProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The first JSON line the process printed on stdout. */
  readonly ready: Record<string, unknown>;
  readonly logFile: string;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once, as a crash would. */
  kill(): Promise<void>;
}

export async function startFleetProcess(
  name: string,
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; logFile: string; readyTimeoutMs?: number },
): Promise<FleetProcess> {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(process.execPath, [...argv], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timeout = setTimeout(
      () =>
        reject(
          new Error(
            `${name} did not become ready within ${options.readyTimeoutMs ?? 20000} ms (log: ${options.logFile})`,
          ),
        ),
      options.readyTimeoutMs ?? 20000,
    );
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timeout);
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch {
        reject(new Error(`${name} printed "${line}" instead of its ready line`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timeout);
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready (log: ${options.logFile})`));
    });
  });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    child,
    ready,
    logFile: options.logFile,
    async stop(graceMs = 5000) {
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
