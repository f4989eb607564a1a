import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runbook } from '@hotswap/runbook';
import { bundleAgent } from './agent.bundle.js';
import { exec } from './exec.js';
import { guestLabFiles } from './guest-files.js';
import { buildInitramfs } from './initramfs.js';
import type { KernelTree } from './kernel-cache.js';
import { LabInfraError } from './lab.errors.js';
import type { LabTimings } from './lab-report.js';
import { parseModuleIndex, resolveModules } from './modules-dep.js';
import type { Progress } from './progress.js';
import { buildRefapp } from './refapp.build.js';
import type { Scenario } from './scenario.schema.js';

/** The modules the image needs: the scenario's and the runbook's, dependencies resolved. */
async function moduleFiles(kernel: KernelTree, names: readonly string[], runbook: Runbook): Promise<string[]> {
  const index = parseModuleIndex(
    await readFile(join(kernel.modulesDir, 'modules.dep'), 'utf8'),
    await readFile(join(kernel.modulesDir, 'modules.builtin'), 'utf8'),
  );
  const swapped = runbook.spec.modules.map((step) => step.name);
  const resolved = resolveModules([...names, ...swapped], index);
  const builtinSwapped = swapped.filter((name) => resolved.builtin.includes(name.replaceAll('-', '_')));
  if (builtinSwapped.length > 0) {
    throw new LabInfraError(`${builtinSwapped.join(', ')} is built into ${kernel.release}: it cannot be swapped`);
  }
  return [...resolved.files];
}

/** The srcversion of the runbook's first target file, read on the host ('' when it has none). */
async function targetSrcversion(kernel: KernelTree, runbook: Runbook): Promise<string | null> {
  const target = runbook.spec.modules[0]?.target;
  if (!target || !('file' in target)) return null;
  const onHost = join(kernel.root, target.file);
  if (!(await stat(onHost).catch(() => null))) return null;
  const result = await exec('modinfo', ['-F', 'srcversion', onHost]);
  return result.code === 0 ? result.stdout.trim() : null;
}

export interface GuestImage {
  readonly initrd: string;
  /** See `targetSrcversion`. */
  readonly targetSrcversion: string | null;
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
  readonly runbook: Runbook;
  readonly swapCommand: string;
  readonly progress: Progress;
}): Promise<GuestImage> {
  const { runDir, kernel, scenario, runbook } = input;
  const modules = await moduleFiles(kernel, scenario.modules, runbook);
  const refapp = await buildRefapp(runDir);
  const agent = await bundleAgent(join(runDir, 'agent'));
  input.progress(
    `building the initramfs (${modules.length} modules, node, agent bundle ${(agent.bytes / 1e6).toFixed(1)} MB)`,
  );
  const initrd = join(runDir, 'initramfs.cpio');
  const image = await buildInitramfs({
    stageDir: join(runDir, 'stage'),
    outFile: initrd,
    kernel,
    moduleFiles: modules,
    refapp: refapp.path,
    agentDir: join(runDir, 'agent'),
    labFiles: guestLabFiles(scenario, runbook, input.swapCommand),
  });
  await rm(join(runDir, 'stage'), { recursive: true, force: true });
  return {
    initrd,
    targetSrcversion: await targetSrcversion(kernel, runbook),
    timings: {
      refappBuildMs: refapp.ms,
      agentBundleMs: agent.ms,
      initramfsStageMs: image.stageMs,
      initramfsPackMs: image.packMs,
      initramfsBytes: image.bytes,
    },
  };
}
