import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec, execOk, timed } from './exec.js';
import { LabInfraError } from './lab.errors.js';
import type { Progress } from './progress.js';

/** Debian's kernel, unpacked (never installed) into the lab's cache. */
export interface KernelTree {
  /** The versioned package `linux-image-amd64` depends on, e.g. linux-image-6.1.0-56-amd64. */
  readonly pkg: string;
  /** Its Debian version, e.g. 6.1.192-2. */
  readonly version: string;
  /** `uname -r` in the guest, e.g. 6.1.0-56-amd64. */
  readonly release: string;
  /** The unpacked package: boot/, lib/modules/<release>/ with a modules.dep from depmod. */
  readonly root: string;
  readonly vmlinuz: string;
  readonly modulesDir: string;
  /** Null when the tree came from the cache. */
  readonly downloadMs: number | null;
  readonly unpackMs: number | null;
  readonly depmodMs: number | null;
}

const META = 'kernel.json';
const META_PACKAGE = 'linux-image-amd64';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** `apt-cache depends linux-image-amd64` names the versioned image package. */
export function parseImageDependency(aptCacheDepends: string): string | null {
  return /^\s*Depends:\s*(linux-image-\d\S*)\s*$/m.exec(aptCacheDepends)?.[1] ?? null;
}

/** `apt-cache policy PKG` gives the candidate version. */
export function parseCandidate(aptCachePolicy: string): string | null {
  const candidate = /^\s*Candidate:\s*(\S+)\s*$/m.exec(aptCachePolicy)?.[1];
  return candidate && candidate !== '(none)' ? candidate : null;
}

async function resolveFromApt(): Promise<{ pkg: string; version: string } | null> {
  const depends = await exec('apt-cache', ['depends', META_PACKAGE]);
  const pkg = depends.code === 0 ? parseImageDependency(depends.stdout) : null;
  if (!pkg) return null;
  const policy = await exec('apt-cache', ['policy', pkg]);
  const version = policy.code === 0 ? parseCandidate(policy.stdout) : null;
  return version ? { pkg, version } : null;
}

async function resolvePackage(progress: Progress): Promise<{ pkg: string; version: string } | null> {
  const known = await resolveFromApt();
  if (known) return known;
  if (process.getuid?.() !== 0) return null;
  progress('apt-get update (the package lists do not name the kernel)');
  await exec('apt-get', ['update', '-qq'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return resolveFromApt();
}

async function readTree(dir: string): Promise<KernelTree> {
  const meta = JSON.parse(await readFile(join(dir, META), 'utf8')) as Pick<KernelTree, 'pkg' | 'version' | 'release'>;
  const root = join(dir, 'root');
  return {
    ...meta,
    root,
    vmlinuz: join(root, 'boot', `vmlinuz-${meta.release}`),
    modulesDir: join(root, 'lib', 'modules', meta.release),
    downloadMs: null,
    unpackMs: null,
    depmodMs: null,
  };
}

/** Offline, or the mirror forgot the package: the newest tree already in the cache. */
async function newestCached(kernelsDir: string): Promise<string | null> {
  const names = await readdir(kernelsDir).catch(() => [] as string[]);
  const complete: { dir: string; mtime: number }[] = [];
  for (const name of names) {
    const dir = join(kernelsDir, name);
    const meta = await stat(join(dir, META)).catch(() => null);
    if (meta) complete.push({ dir, mtime: meta.mtimeMs });
  }
  complete.sort((a, b) => b.mtime - a.mtime);
  return complete[0]?.dir ?? null;
}

async function fetchTree(pkg: string, version: string, dir: string, progress: Progress): Promise<KernelTree> {
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  progress(`downloading ${pkg} ${version} (apt-get download, ~70 MB)`);
  const download = await timed(() =>
    execOk('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', `${pkg}=${version}`], { cwd: partial }),
  );
  const deb = (await readdir(partial)).find((name) => name.endsWith('.deb'));
  if (!deb) throw new LabInfraError(`apt-get download ${pkg}=${version} produced no .deb`);
  const root = join(partial, 'root');
  const unpack = await timed(() => execOk('dpkg-deb', ['-x', join(partial, deb), root]));
  await rm(join(partial, deb));
  const release = (await readdir(join(root, 'lib', 'modules')))[0];
  if (!release) throw new LabInfraError(`${pkg} ships no lib/modules/<release>`);
  // The package ships no modules.dep: depmod on the unpacked tree.
  const depmod = await timed(() => execOk('depmod', ['-b', root, release]));
  await writeFile(join(partial, META), `${JSON.stringify({ pkg, version, release })}\n`);
  await rename(partial, dir).catch(async (error: NodeJS.ErrnoException) => {
    // Another lab run finished the same download first: use its tree.
    if (!(await exists(join(dir, META)))) throw error;
    await rm(partial, { recursive: true, force: true });
  });
  return { ...(await readTree(dir)), downloadMs: download.ms, unpackMs: unpack.ms, depmodMs: depmod.ms };
}

/**
 * The kernel `linux-image-amd64` currently depends on, from the cache when it is there
 * (`<cache>/kernels/<pkg>_<version>/`), else downloaded with `apt-get download`, unpacked
 * with `dpkg-deb -x` and indexed with `depmod -b`.
 */
export async function ensureKernelTree(cacheRoot: string, progress: Progress): Promise<KernelTree> {
  const kernelsDir = join(cacheRoot, 'kernels');
  await mkdir(kernelsDir, { recursive: true });
  const wanted = await resolvePackage(progress);
  if (!wanted) {
    const fallback = await newestCached(kernelsDir);
    if (!fallback)
      throw new LabInfraError(`apt cannot name the package ${META_PACKAGE} depends on, and none is cached`);
    progress(`apt cannot resolve ${META_PACKAGE}: using the cached ${fallback}`);
    return readTree(fallback);
  }
  const dir = join(kernelsDir, `${wanted.pkg}_${wanted.version}`);
  if (await exists(join(dir, META))) return readTree(dir);
  return fetchTree(wanted.pkg, wanted.version, dir, progress);
}
