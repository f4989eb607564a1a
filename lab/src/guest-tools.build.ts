import { join } from 'node:path';
import { execOk, timed } from './exec.js';
import { KERNEL_LAB_DIR } from './lab-paths.js';

/** The guest's own C programs: the reference application and the module watcher. */
const TOOLS = ['refapp', 'lab-watch'] as const;

/** Compiles them on the host, statically: the guest has no libc of its own. */
export async function buildGuestTools(outDir: string): Promise<{ refapp: string; labWatch: string; ms: number }> {
  const { ms } = await timed(() =>
    Promise.all(
      TOOLS.map((tool) =>
        execOk('gcc', [
          '-static',
          '-O2',
          '-Wall',
          '-Wextra',
          '-o',
          join(outDir, tool),
          join(KERNEL_LAB_DIR, `${tool}.c`),
        ]),
      ),
    ),
  );
  return { refapp: join(outDir, 'refapp'), labWatch: join(outDir, 'lab-watch'), ms };
}
