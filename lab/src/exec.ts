import { execFile } from 'node:child_process';
import { LabInfraError } from './lab.errors.js';

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs a program to completion, never through a shell; a non-zero exit is returned, not thrown. */
export function exec(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { ...options, timeout: options.timeoutMs ?? 0, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new LabInfraError(`cannot run ${file}: ${error.message}`));
          return;
        }
        resolve({ stdout, stderr, code: error ? Number(error.code) : 0 });
      },
    );
  });
}

/** Like `exec`, but a non-zero exit is a `LabInfraError` carrying the program's stderr. */
export async function execOk(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  const result = await exec(file, args, options);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    throw new LabInfraError(`${file} ${args.join(' ')} exited with ${result.code}${detail ? `:\n${detail}` : ''}`);
  }
  return result.stdout;
}

/** Milliseconds `work` took, with its result. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: Math.round(performance.now() - start) };
}
