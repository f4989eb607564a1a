import { spawnSync } from 'node:child_process';
import { ensureSystemDeps } from '@hotswap/tools';

export interface PromtoolResult {
  readonly status: number | null;
  readonly output: string;
}

/**
 * Makes sure promtool is installed (Debian's `prometheus` package, with apt-get when missing):
 * throws when it cannot be, so a test that needs it fails rather than skips.
 */
export function requirePromtool(): void {
  ensureSystemDeps(['promtool']);
  const version = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`promtool does not run: ${version.error?.message ?? version.stderr}`);
}

/** Runs promtool with `args` (and `input` on stdin); stdout and stderr together in `output`. */
export function promtool(args: readonly string[], options: { cwd?: string; input?: string } = {}): PromtoolResult {
  const run = spawnSync('promtool', [...args], {
    cwd: options.cwd,
    input: options.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
