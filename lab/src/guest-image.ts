import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runbook } from '@hotswap/runbook';
import { bundleAgent } from './agent.bundle.js';
import { exec } from './exec.js';
import { guestLabFiles, watchedModules } from './guest-files.js';
import { buildGuestTools } from './guest-tools.build.js';
import { buildInitramfs } from './initramfs.js';
import type { KernelTree } from './kernel-cache.js';
import { LabInfraError } from './lab.errors.js';
import type { LabTimings } from './lab-report.js';
import type { ModuleBuild } from './module-build.js';
import { canonicalModuleName, moduleNameOfPath, parseModuleIndex, resolveModules } from './modules-dep.js';
import type { Progress } from './progress.js';
import type { Scenario } from './scenario.schema.js';

/** What a runbook's target file is, read on the host with modinfo. */
export interface TargetFile {
  readonly file: string;
  readonly version: string;
  /** '' when the module has none (no MODULE_VERSION, CONFIG_MODULE_SRCVERSION_ALL unset). */
  readonly srcversion: string;
}

/** Names of the modules the scenario's build puts under /lib/modules/<release>/. */
function builtModuleNames(kernel: KernelTree, build: ModuleBuild | null): Set<string> {
  const prefix = `/lib/modules/${kernel.release}/`;
  return new Set([...(build?.files.keys() ?? [])].filter((path) => path.startsWith(prefix)).map(moduleNameOfPath));
}

/** The kernel's modules the image needs: the scenario's and the runbooks', dependencies resolved. */
async function moduleFiles(
  kernel: KernelTree,
  names: readonly string[],
  runbooks: readonly Runbook[],
  build: ModuleBuild | null,
): Promise<string[]> {
  const index = parseModuleIndex(
    await readFile(join(kernel.modulesDir, 'modules.dep'), 'utf8'),
    await readFile(join(kernel.modulesDir, 'modules.builtin'), 'utf8'),
  );
  const ours = builtModuleNames(kernel, build);
  const swapped = runbooks.flatMap((runbook) => runbook.spec.modules.map((step) => canonicalModuleName(step.name)));
  const fromKernel = [...new Set([...names.map(canonicalModuleName), ...swapped])].filter((name) => !ours.has(name));
  const resolved = resolveModules(fromKernel, index);
  const builtinSwapped = swapped.filter((name) => resolved.builtin.includes(name));
  if (builtinSwapped.length > 0) {
    throw new LabInfraError(`${builtinSwapped.join(', ')} is built into ${kernel.release}: it cannot be swapped`);
  }
  return [...resolved.files];
}

/** The runbook's first target file, found through the build's files or in the kernel's tree. */
async function targetFile(kernel: KernelTree, runbook: Runbook, build: ModuleBuild | null): Promise<TargetFile | null> {
  const target = runbook.spec.modules[0]?.target;
  if (!target || !('file' in target)) return null;
  const onHost = build?.files.get(target.file) ?? join(kernel.root, target.file);
  const field = async (name: string): Promise<string | null> => {
    const result = await exec('modinfo', ['-F', name, onHost]);
    return result.code === 0 ? result.stdout.trim() : null;
  };
  const [version, srcversion] = [await field('version'), await field('srcversion')];
  return version === null || srcversion === null ? null : { file: target.file, version, srcversion };
}

export interface GuestImage {
  readonly initrd: string;
  /** Per `swap.alternate` entry: its runbook's target file (null for a version target). */
  readonly targets: readonly (TargetFile | null)[];
  readonly timings: Pick<
    LabTimings,
    'refappBuildMs' | 'agentBundleMs' | 'initramfsStageMs' | 'initramfsPackMs' | 'initramfsBytes'
  >;
}

/** The guest's initramfs for one scenario, in `runDir`: modules, refapp, agent, /lab files. */
export async function buildGuestImage(input: {
  readonly runDir: string;
  readonly kernel: KernelTree;
  readonly scenario: Scenario;
  readonly runbooks: readonly Runbook[];
  readonly build: ModuleBuild | null;
  readonly swapCommand: string;
  readonly progress: Progress;
}): Promise<GuestImage> {
  const { runDir, kernel, scenario, runbooks, build } = input;
  if (watchedModules(scenario, runbooks).length > 16) throw new LabInfraError('lab-watch follows at most 16 modules');
  const modules = await moduleFiles(kernel, scenario.modules, runbooks, build);
  const tools = await buildGuestTools(runDir);
  const agent = await bundleAgent(join(runDir, 'agent'));
  input.progress(
    `building the initramfs (${modules.length + (build?.files.size ?? 0)} module files, node, agent bundle ${(agent.bytes / 1e6).toFixed(1)} MB)`,
  );
  const initrd = join(runDir, 'initramfs.cpio');
  const image = await buildInitramfs({
    stageDir: join(runDir, 'stage'),
    outFile: initrd,
    kernel,
    moduleFiles: modules,
    builtFiles: build?.files ?? new Map(),
    modprobeConf: build?.modprobeConf ?? null,
    refapp: tools.refapp,
    labWatch: tools.labWatch,
    agentDir: join(runDir, 'agent'),
    labFiles: guestLabFiles(scenario, runbooks, input.swapCommand),
  });
  await rm(join(runDir, 'stage'), { recursive: true, force: true });
  return {
    initrd,
    targets: await Promise.all(runbooks.map((runbook) => targetFile(kernel, runbook, build))),
    timings: {
      refappBuildMs: tools.ms,
      agentBundleMs: agent.ms,
      initramfsStageMs: image.stageMs,
      initramfsPackMs: image.packMs,
      initramfsBytes: image.bytes,
    },
  };
}
