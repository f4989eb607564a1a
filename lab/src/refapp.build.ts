import { join } from 'node:path';
import { execOk, timed } from './exec.js';
import { REFAPP_SOURCE } from './lab-paths.js';

/** Compiles the reference application on the host, statically: the guest has no libc of its own. */
export async function buildRefapp(outDir: string): Promise<{ path: string; ms: number }> {
  const path = join(outDir, 'refapp');
  const { ms } = await timed(() => execOk('gcc', ['-static', '-O2', '-Wall', '-Wextra', '-o', path, REFAPP_SOURCE]));
  return { path, ms };
}
