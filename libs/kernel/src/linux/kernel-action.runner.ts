import { spawn, type ChildProcess } from 'node:child_process';
import { KernelActionError } from '../kernel-action.error.js';
import { actionError } from './action-error.mapper.js';

/** A kernel action whose child process has not exited yet (it may be stuck in the kernel). */
export interface LiveAction {
  readonly pid: number;
  /** What it does, for people: "unbind pci 0000:03:00.0 from mlx5_core". */
  readonly what: string;
  /** When it started (ms since the epoch). */
  readonly since: number;
  /** The device it acts on ("pci/0000:03:00.0"), or null for module actions. */
  readonly device: string | null;
  readonly command: readonly string[];
}

export interface CommandSpec {
  readonly what: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Written to the child's stdin, which is then closed. */
  readonly input?: string;
  /** Each line of the child's stdout, as it comes (the whole output is still collected). */
  readonly onLine?: (line: string) => void;
  /** The device it acts on: listed by liveActions() and by liveOn(). */
  readonly device?: string | null;
  /**
   * Kernel actions are tracked (liveActions) and never timed out here: the caller keeps the
   * promise and decides when it is stuck. Read-only helpers (modinfo) pass a timeout instead:
   * the child is killed past it (a read can be abandoned safely).
   */
  readonly readTimeoutMs?: number;
}

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_OUTPUT = 256 * 1024;
const EXIT_GRACE_MS = 200;

/**
 * Runs every kernel write and command in a child process, so that a write that blocks in the
 * kernel (an unbind waiting for holders, a probe that hangs) blocks that child and never the
 * agent's event loop. The promise settles when the child exits: resolved on exit 0, rejected
 * with a KernelActionError mapped from what the tool printed otherwise. Children are never
 * killed here: killing does not free a task in uninterruptible sleep, and the kernel keeps the
 * device lock until the write returns.
 */
export class KernelActionRunner {
  private readonly live = new Map<number, LiveAction>();
  private readonly children = new Set<ChildProcess>();
  private detached = false;

  constructor(private readonly now: () => number = Date.now) {}

  run(spec: CommandSpec): Promise<CommandOutput> {
    return new Promise<CommandOutput>((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(spec.command, [...spec.args], {
          stdio: [spec.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        });
      } catch (err) {
        reject(new KernelActionError('EIO', `${spec.what}: cannot run ${spec.command}: ${(err as Error).message}`));
        return;
      }
      const out = { stdout: '', stderr: '' };
      const collect = (key: 'stdout' | 'stderr') => (chunk: Buffer) => {
        if (out[key].length < MAX_OUTPUT) out[key] += chunk.toString('utf8');
      };
      child.stdout?.on('data', collect('stdout'));
      if (spec.onLine) child.stdout?.on('data', lineSplitter(spec.onLine));
      child.stderr?.on('data', collect('stderr'));
      let timer: NodeJS.Timeout | null = null;
      let timedOut = false;
      let spawnError: Error | null = null;

      child.once('error', (err: NodeJS.ErrnoException) => {
        spawnError = err; // 'close' follows
        if (child.pid === undefined) finish(null, null);
      });
      child.once('spawn', () => {
        const pid = child.pid as number;
        this.children.add(child);
        if (this.detached) unrefChild(child);
        if (spec.readTimeoutMs === undefined) {
          this.live.set(pid, {
            pid,
            what: spec.what,
            since: this.now(),
            device: spec.device ?? null,
            command: [spec.command, ...spec.args],
          });
        } else {
          timer = setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, spec.readTimeoutMs);
        }
        if (spec.input !== undefined && child.stdin) {
          child.stdin.on('error', () => undefined); // the child may exit without reading (EPIPE)
          child.stdin.end(spec.input);
        }
      });
      child.once('close', (code, signal) => finish(code, signal));
      // A helper modprobe starts (an `install` rule) may keep our pipes open after the exit:
      // settle on the exit, once the output has had a moment to drain.
      child.once('exit', (code, signal) => setTimeout(() => finish(code, signal), EXIT_GRACE_MS).unref());

      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        if (child.pid !== undefined) this.live.delete(child.pid);
        this.children.delete(child);
        if (spawnError) {
          const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
          const why = missing ? `${spec.command} is not installed (not found on PATH)` : spawnError.message;
          reject(new KernelActionError('EIO', `${spec.what}: cannot run ${spec.command}: ${why}`));
        } else if (timedOut) {
          reject(
            new KernelActionError('EIO', `${spec.what}: ${spec.command} did not answer in ${spec.readTimeoutMs} ms`),
          );
        } else if (code === 0) {
          resolve(out);
        } else {
          const exit = signal ? `killed by ${signal}` : `exit ${code}`;
          reject(actionError(spec.what, `${out.stderr}\n${out.stdout}`, exit));
        }
      };
    });
  }

  /** Actions whose child is still alive, oldest first. */
  liveActions(): LiveAction[] {
    return [...this.live.values()].sort((a, b) => a.since - b.since || a.pid - b.pid);
  }

  /** The live action on a device ("bus/id"), if any. */
  liveOn(device: string): LiveAction | undefined {
    return this.liveActions().find((a) => a.device === device);
  }

  /**
   * Lets the agent exit although children are still alive (stuck in the kernel): they stay
   * tracked, and their promises still settle if they exit while the process lives.
   */
  detach(): void {
    this.detached = true;
    for (const child of this.children) unrefChild(child);
  }
}

/** Calls `onLine` with each complete line of a stream's chunks. */
function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach((line) => onLine(line));
  };
}

function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
}
