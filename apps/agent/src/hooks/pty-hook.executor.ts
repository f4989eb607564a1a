import { constants } from 'node:fs';
import { access, appendFile, mkdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { spawn } from 'node-pty';
import type { HookSpec } from '@hotswap/swap';

export interface HookOutcome {
  readonly ok: boolean;
  readonly detail: string;
}

/** What the swap runner needs to run a hook; the PTY executor below is the real one. */
export interface HookExecutor {
  run(hook: HookSpec, stage: 'pre' | 'post', swapId: string, onOutput?: (text: string) => void): Promise<HookOutcome>;
}

export interface PtyHookOptions {
  /** Only programs under this directory run (an operator's token must not mean any root command). */
  readonly hooksDir: string;
  /** `shell: true` hooks run `sh -c SCRIPT`: arbitrary code, so only when the host allows it. */
  readonly allowShell: boolean;
  /** Each hook's output is kept here on the host, one file per swap and hook. */
  readonly logDir: string;
}

/**
 * Runs runbook hooks in a pseudo-terminal (node-pty), so that vendor tools that insist on a
 * terminal ("Continue? (y/n)") behave as they do for a person. Declared prompts are answered
 * in order; past its deadline the hook's whole process group is killed (the PTY child is a
 * session leader, so its group id is its pid).
 */
export class PtyHookExecutor implements HookExecutor {
  constructor(private readonly options: PtyHookOptions) {}

  async run(
    hook: HookSpec,
    stage: 'pre' | 'post',
    swapId: string,
    onOutput?: (text: string) => void,
  ): Promise<HookOutcome> {
    const refusal = await this.refusal(hook);
    if (refusal) return { ok: false, detail: refusal };
    await mkdir(this.options.logDir, { recursive: true });
    const logFile = join(this.options.logDir, `${swapId}.${stage}.${hook.name}.log`);
    const [file, ...args] = hook.argv as [string, ...string[]];
    const child = spawn(file, args, {
      name: 'xterm',
      cols: 120,
      rows: 30,
      cwd: this.options.hooksDir,
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        TERM: 'xterm',
        HOTSWAP_SWAP_ID: swapId,
        HOTSWAP_HOOK: hook.name,
        HOTSWAP_HOOK_STAGE: stage,
      },
    });
    const expectations = [...hook.expect];
    let unanswered = '';
    let writes = Promise.resolve();
    let lastData = Date.now();
    child.onData((text) => {
      lastData = Date.now();
      writes = writes.then(() => appendFile(logFile, text)).catch(() => undefined);
      onOutput?.(text);
      unanswered += text;
      const next = expectations[0];
      if (next && unanswered.includes(next.prompt)) {
        expectations.shift();
        unanswered = '';
        child.write(`${next.answer}\r`);
      }
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, hook.timeoutMs);
    const exit = await new Promise<{ exitCode: number; signal?: number }>((resolve) => child.onExit(resolve));
    clearTimeout(timer);
    // node-pty may report the exit before the last output is read from the terminal: wait until
    // the output has been quiet for a moment (bounded) so the tail of the log is not lost.
    const exitedAt = Date.now();
    const quiet = (): boolean => Date.now() - Math.max(lastData, exitedAt) >= 50;
    while (!quiet() && Date.now() - exitedAt < 1000) await new Promise((resolve) => setTimeout(resolve, 10));
    await writes;
    if (timedOut)
      return { ok: false, detail: `timed out after ${hook.timeoutMs / 1000} s; its process group was killed` };
    if (exit.signal) return { ok: false, detail: `killed by signal ${exit.signal}` };
    const ok = hook.successExitCodes.includes(exit.exitCode);
    const missed = expectations.length > 0 ? `; prompt "${expectations[0]!.prompt}" never appeared` : '';
    return { ok, detail: `exit ${exit.exitCode}${missed}` };
  }

  /** Why this hook may not run on this host, or null. */
  private async refusal(hook: HookSpec): Promise<string | null> {
    const program = hook.argv[0] ?? '';
    if (hook.shell) {
      return this.options.allowShell ? null : 'shell hooks are disabled on this host (agent flag --allow-shell-hooks)';
    }
    if (!program.startsWith('/')) return `${program}: give the absolute path of a program in ${this.options.hooksDir}`;
    let real: string;
    let dir: string;
    try {
      [real, dir] = await Promise.all([realpath(program), realpath(this.options.hooksDir)]);
    } catch {
      return `${program}: no such program (hooks run from ${this.options.hooksDir})`;
    }
    if (!real.startsWith(dir + sep))
      return `${program} is not in the allow-listed hooks directory ${this.options.hooksDir}`;
    if (!(await stat(real)).isFile()) return `${program} is not a regular file`;
    try {
      await access(real, constants.X_OK);
    } catch {
      return `${program} is not executable`;
    }
    return null;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
