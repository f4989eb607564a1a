import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const KEEP_RUNS = 10;

/** A fresh directory for one run's logs and image under `<cache>/runs/`; the oldest are pruned. */
export async function makeRunDir(cacheRoot: string, scenario: string): Promise<string> {
  const runs = join(cacheRoot, 'runs');
  await mkdir(runs, { recursive: true });
  const existing = (await readdir(runs)).sort();
  for (const old of existing.slice(0, Math.max(0, existing.length - KEEP_RUNS + 1))) {
    await rm(join(runs, old), { recursive: true, force: true });
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(runs, `${stamp}-${scenario}`);
  await mkdir(dir, { recursive: true });
  return dir;
}
