import { cp, mkdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { execOk, exec, timed } from './exec.js';
import type { KernelTree } from './kernel-cache.js';
import { LabInfraError } from './lab.errors.js';
import { GUEST_DIR } from './lab-paths.js';
import { packCpio } from './cpio.js';
import { sharedLibraries } from './elf-libraries.js';
import { StageCopier } from './stage-copy.js';

export interface InitramfsInput {
  readonly stageDir: string;
  readonly outFile: string;
  readonly kernel: KernelTree;
  /** Module files relative to lib/modules/<release>, dependencies included. */
  readonly moduleFiles: readonly string[];
  /** The scenario's own built files: guest path -> host file (staged before depmod). */
  readonly builtFiles: ReadonlyMap<string, string>;
  /** /etc/modprobe.d/lab.conf, when the scenario gives one. */
  readonly modprobeConf: string | null;
  readonly refapp: string;
  readonly labWatch: string;
  /** The bundled agent (agent.js, agent.cjs and its code cache, package.json, node_modules/node-pty). */
  readonly agentDir: string;
  /** Files under /lab: the scenario's configuration. */
  readonly labFiles: ReadonlyMap<string, string>;
}

const KMOD_TOOLS = ['modprobe', 'insmod', 'rmmod', 'modinfo', 'lsmod', 'depmod'];
const GUEST_SCRIPTS = ['lab-swap-shell', 'lab-vport-node'];
const MODULE_INDEXES = ['modules.order', 'modules.builtin', 'modules.builtin.modinfo'];

async function busybox(stage: StageCopier): Promise<void> {
  if ((await sharedLibraries('/bin/busybox')).length > 0) {
    throw new LabInfraError('/bin/busybox is dynamically linked: install busybox-static');
  }
  await stage.file('/bin/busybox', '/bin/busybox', 0o755);
}

/**
 * The tools the agent runs, as production hosts have them, ahead of busybox's on PATH: kmod
 * (modprobe & co. are links to one binary) and GNU dd, which performs sysfs writes with
 * `conv=nocreat,notrunc status=none` (busybox's dd knows neither).
 */
async function hostTools(stage: StageCopier): Promise<void> {
  await stage.executable(await realpath('/usr/sbin/modprobe'), '/usr/bin/kmod');
  for (const tool of KMOD_TOOLS) await stage.link('../bin/kmod', `/usr/sbin/${tool}`);
  await stage.executable('/usr/bin/dd');
}

async function modules(stage: StageCopier, kernel: KernelTree, files: readonly string[]): Promise<void> {
  const dir = `/lib/modules/${kernel.release}`;
  for (const file of [...files, ...MODULE_INDEXES]) await stage.file(join(kernel.modulesDir, file), `${dir}/${file}`);
  // A modules.dep for exactly what the image holds.
  await execOk('depmod', ['-b', stage.root, kernel.release]);
}

async function labFiles(stage: StageCopier, input: InitramfsInput): Promise<void> {
  await stage.text('/init', await readFile(join(GUEST_DIR, 'init'), 'utf8'), 0o755);
  for (const script of GUEST_SCRIPTS) await stage.file(join(GUEST_DIR, script), `/lab/bin/${script}`, 0o755);
  await stage.file(input.refapp, '/lab/bin/refapp', 0o755);
  await stage.file(input.labWatch, '/lab/bin/lab-watch', 0o755);
  for (const [path, content] of input.labFiles) await stage.text(`/lab/${path}`, content);
}

/**
 * Builds the guest's root: busybox, kmod's tools and GNU dd with their libraries, Node.js (the host's
 * binary and its libraries), the bundled agent, the reference application and lab-watch, the
 * scenario's files, modules and built modules (in modules.dep), /init; then packs it with cpio.
 */
export async function buildInitramfs(
  input: InitramfsInput,
): Promise<{ bytes: number; stageMs: number; packMs: number }> {
  const stage = new StageCopier(input.stageDir);
  const staged = await timed(async () => {
    for (const dir of ['proc', 'sys', 'dev', 'run', 'tmp', 'root', 'etc']) {
      await mkdir(join(input.stageDir, dir), { recursive: true });
    }
    // The kernel opens /dev/console for init before devtmpfs is mounted.
    await exec('mknod', ['-m', '600', join(input.stageDir, 'dev', 'console'), 'c', '5', '1']);
    await busybox(stage);
    await hostTools(stage);
    await stage.executable(process.execPath, '/usr/bin/node');
    await cp(input.agentDir, stage.at('/hotswap'), { recursive: true });
    const ptyNode = join(input.agentDir, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node');
    for (const library of await sharedLibraries(ptyNode)) await stage.file(library);
    for (const [guest, file] of input.builtFiles) await stage.file(file, guest);
    if (input.modprobeConf !== null) await stage.text('/etc/modprobe.d/lab.conf', input.modprobeConf);
    await modules(stage, input.kernel, input.moduleFiles);
    await labFiles(stage, input);
  });
  const packed = await timed(() => packCpio(input.stageDir, input.outFile));
  return { bytes: packed.value, stageMs: staged.ms, packMs: packed.ms };
}
