import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { exec, timed } from './exec.js';
import { LabInfraError } from './lab.errors.js';
import { REPO_ROOT } from './lab-paths.js';
import type { Progress } from './progress.js';
import { substitute } from './scenario.loader.js';
import type { Scenario } from './scenario.schema.js';

type Build = NonNullable<Scenario['build']>;

export interface ModuleBuild {
  /** Guest path -> host file, `${KERNEL_RELEASE}` expanded. */
  readonly files: ReadonlyMap<string, string>;
  readonly modprobeConf: string | null;
  readonly dir: string;
  /** Null when the cache had it. */
  readonly ms: number | null;
}

const COMPLETE = '.complete';

async function filesUnder(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new LabInfraError(`build source ${relative(REPO_ROOT, path)} does not exist`);
  if (!info.isDirectory()) return [path];
  // Documentation in a source folder cannot change a build: editing it rebuilds nothing.
  const entries = (await readdir(path, { withFileTypes: true })).filter((entry) => !entry.name.endsWith('.md'));
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? filesUnder(join(path, entry.name)) : [join(path, entry.name)])),
  );
  return nested.flat();
}

/** The cache key: the command, the kernel, and every source file's path and contents (not *.md). */
async function buildKey(command: string, release: string, sources: readonly string[]): Promise<string> {
  const hash = createHash('sha256').update(`${command}\0${release}\0`);
  const files = (await Promise.all(sources.map((source) => filesUnder(join(REPO_ROOT, source))))).flat().sort();
  for (const file of files)
    hash
      .update(`${relative(REPO_ROOT, file)}\0`)
      .update(await readFile(file))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * A scenario's out-of-tree modules for the lab's kernel, from `<cache>/builds/<key>/` when the
 * same command already built the same sources for the same kernel, else built there now.
 */
export async function ensureModuleBuild(
  build: Build,
  release: string,
  cacheRoot: string,
  progress: Progress,
): Promise<ModuleBuild> {
  const key = await buildKey(build.command, release, build.sources);
  const dir = join(cacheRoot, 'builds', key);
  const files = new Map(
    Object.entries(build.files).map(([guest, file]) => [
      substitute(guest, { KERNEL_RELEASE: release }) as string,
      join(dir, file),
    ]),
  );
  const result = { files, modprobeConf: build.modprobeConf ?? null, dir };
  if (await stat(join(dir, COMPLETE)).catch(() => null)) return { ...result, ms: null };

  const command = substitute(build.command, { KERNEL_RELEASE: release, BUILD_OUT: dir }) as string;
  progress(`building the scenario's modules for ${release}: ${command}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const run = await timed(() =>
    exec('sh', ['-c', command], { cwd: REPO_ROOT, env: { ...process.env, HOTSWAP_LAB_CACHE: cacheRoot } }),
  );
  if (run.value.code !== 0) {
    const tail = run.value.stderr.trim().split('\n').slice(-15).join('\n    ');
    throw new LabInfraError(`the module build failed (exit ${run.value.code}): ${command}\n    ${tail}`);
  }
  for (const [guest, file] of files) {
    if (!(await stat(file).catch(() => null))) {
      throw new LabInfraError(`the module build made no ${relative(dir, file)} (for ${guest}) in ${dir}`);
    }
  }
  await writeFile(join(dir, COMPLETE), `${command}\n`);
  return { ...result, ms: run.ms };
}
