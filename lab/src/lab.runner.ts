import { rm, writeFile } from 'node:fs/promises';
import type { Runbook } from '@hotswap/runbook';
import { join } from 'node:path';
import { chooseAccel, type AccelChoice, type AccelRequest } from './accel.js';
import { evaluateChecks } from './checks.js';
import { watchedModules } from './guest-files.js';
import { parseGuestLine } from './guest-records.js';
import { buildGuestImage, type TargetFile } from './guest-image.js';
import { ensureKernelTree, type KernelTree } from './kernel-cache.js';
import { LabInfraError } from './lab.errors.js';
import { guestTimings, summarizeCycles, type LabReport, type LabTimings } from './lab-report.js';
import { assembleRun, type LabRun } from './lab-run.js';
import { liveProgress } from './live-progress.js';
import type { Progress } from './progress.js';
import { qemuArgs } from './qemu.args.js';
import { bootGuest, type BootResult } from './qemu.boot.js';
import { compareRecoveries } from './recovery-comparison.js';
import { ensureModuleBuild } from './module-build.js';
import { canonicalModuleName } from './modules-dep.js';
import { makeRunDir } from './run-dir.js';
import type { LoadedScenario } from './scenario.loader.js';

export interface RunOptions {
  readonly loaded: LoadedScenario;
  readonly cacheRoot: string;
  readonly accel: AccelRequest;
  /** Keep the initramfs in the run directory. */
  readonly keep: boolean;
  readonly progress: Progress;
  /** Echo the guest's console to stderr. */
  readonly verbose: boolean;
  readonly packagesMs: number | null;
  /** Replaces the scenario's swap command (`--agent`). */
  readonly swapCommand: string | null;
}

const emptyTimings = (packagesMs: number | null): LabTimings => ({
  packagesMs,
  kernelDownloadMs: null,
  kernelUnpackMs: null,
  depmodMs: null,
  moduleBuildMs: null,
  refappBuildMs: null,
  agentBundleMs: null,
  initramfsStageMs: null,
  initramfsPackMs: null,
  initramfsBytes: null,
  accelProbeMs: null,
  bootToInitMs: null,
  modulesLoadMs: null,
  agentSmokeMs: null,
  cyclesMs: [],
  swapCommandMs: [],
  qemuWallMs: null,
  totalMs: 0,
});

/** Policy signal's grace between SIGTERM and SIGKILL; 0 under policy fail. */
function graceMsOf(runbook: Runbook | undefined): number {
  const blocked = runbook?.spec.blockedUnbind;
  return blocked?.policy === 'signal' ? blocked.graceSeconds * 1000 : 0;
}

/** Why a boot produced no usable run, or null. */
function bootFailure(boot: BootResult, run: LabRun, timeoutSeconds: number): string | null {
  const tail = boot.consoleTail
    .filter((line) => line.trim() !== '')
    .slice(-8)
    .join('\n    ');
  if (!run.init) {
    return `the guest never reached init (QEMU exit ${boot.exitCode}${boot.timedOut ? ', hard timeout' : ''}); console:\n    ${tail}`;
  }
  if (boot.timedOut) return `QEMU hit the hard timeout of ${timeoutSeconds} s; console:\n    ${tail}`;
  return null;
}

/** Builds the image, boots it, reads the results, checks them: one scenario, one report. */
export async function runScenario(options: RunOptions): Promise<LabReport> {
  const started = performance.now();
  const { scenario, file } = options.loaded;
  const swapCommand = options.swapCommand ?? scenario.swap.command;
  const { progress } = options;
  const runDir = await makeRunDir(options.cacheRoot, scenario.name);
  const consoleLog = join(runDir, 'console.log');
  const resultsLog = join(runDir, 'results.log');
  const initrd = join(runDir, 'initramfs.cpio');
  const timings = emptyTimings(options.packagesMs);
  let kernel: KernelTree | null = null;
  let accel: AccelChoice | null = null;
  let run: LabRun = assembleRun([]);
  let infraError: string | null = null;
  let targets: readonly (TargetFile | null)[] = [];
  const runbooks = options.loaded.runbooksFor('0.0.0-lab');
  try {
    kernel = await ensureKernelTree(options.cacheRoot, progress);
    Object.assign(timings, {
      kernelDownloadMs: kernel.downloadMs,
      kernelUnpackMs: kernel.unpackMs,
      depmodMs: kernel.depmodMs,
    });
    progress(`kernel ${kernel.pkg} ${kernel.version}${kernel.downloadMs === null ? ' (cached)' : ''}`);
    const build = scenario.build
      ? await ensureModuleBuild(scenario.build, kernel.release, options.cacheRoot, progress)
      : null;
    timings.moduleBuildMs = build?.ms ?? null;
    if (build) progress(`scenario modules in ${build.dir}${build.ms === null ? ' (cached)' : ''}`);
    const image = await buildGuestImage({
      runDir,
      kernel,
      scenario,
      runbooks: options.loaded.runbooksFor(kernel.release),
      build,
      swapCommand,
      progress,
    });
    targets = image.targets;
    Object.assign(timings, image.timings);
    accel = await chooseAccel(options.accel, kernel, options.cacheRoot, progress);
    timings.accelProbeMs = accel.probeMs;
    progress(`booting under ${accel.accel} (${accel.reason}); hard limit ${scenario.timeoutSeconds} s`);
    const args = qemuArgs({
      accel: accel.accel,
      kernel: kernel.vmlinuz,
      initrd,
      memoryMiB: scenario.qemu.memoryMiB,
      smp: scenario.qemu.smp,
      resultsSocket: join(runDir, 'results.sock'),
      kernelArgs: scenario.qemu.kernelArgs,
      extraArgs: scenario.qemu.args,
    });
    await writeFile(join(runDir, 'qemu.args'), `${args.join('\n')}\n`);
    const boot = await bootGuest({
      args,
      timeoutSeconds: scenario.timeoutSeconds,
      consoleLog,
      resultsSocket: join(runDir, 'results.sock'),
      onResultLine: liveProgress(progress, resultsLog, scenario.swap.cycles),
      ...(options.verbose ? { onConsoleLine: ({ line }) => process.stderr.write(`  | ${line}\n`) } : {}),
    });
    timings.qemuWallMs = boot.wallMs;
    run = assembleRun(boot.results.flatMap(({ line, atMs }) => parseGuestLine(line, atMs) ?? []));
    infraError = bootFailure(boot, run, scenario.timeoutSeconds);
  } catch (error) {
    if (!(error instanceof LabInfraError)) throw error;
    infraError = error.message;
  } finally {
    if (!options.keep) await rm(initrd, { force: true });
  }
  Object.assign(timings, guestTimings(run));
  const comparison = compareRecoveries(run);
  const checks = evaluateChecks(
    {
      run,
      comparison,
      cyclesWanted: scenario.swap.cycles,
      targets,
      swappedModule: canonicalModuleName(runbooks[0]?.spec.modules[0]?.name ?? ''),
      unbindDeadlineMs: (runbooks[0]?.spec.deadlines.unbindSeconds ?? 0) * 1000,
      graceMs: graceMsOf(runbooks[0]),
      restartingApps: scenario.applications.flatMap((app) => (app.recovers === 'restart' ? [app.name] : [])),
    },
    scenario.checks,
  );
  timings.totalMs = Math.round(performance.now() - started);
  const { applications, ...comparisonSummary } = comparison;
  const report: LabReport = {
    scenario: scenario.name,
    file,
    ok: infraError === null && checks.every((check) => check.status !== 'fail'),
    infraError,
    kernel: kernel && { pkg: kernel.pkg, version: kernel.version, release: kernel.release },
    accel,
    swapCommand,
    swapImpl: comparison.basis,
    agentSmoke: run.agentSmoke && {
      exit: run.agentSmoke.exit,
      ms: Math.round(run.agentSmoke.endAt - run.agentSmoke.startAt),
    },
    timings,
    targets,
    cycles: summarizeCycles(run, watchedModules(scenario, runbooks)),
    applications,
    comparison: comparisonSummary,
    checks,
    artifacts: { runDir, consoleLog, resultsLog },
  };
  await writeFile(join(runDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
