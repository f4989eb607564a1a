import { z } from 'zod';
import { KernelActionError } from '../kernel-action.error.js';

/**
 * Chaos testing: the simulated host kills its client (the agent) at an exact point of a kernel
 * action, as a crash of the agent would strike: `before` the action is performed (the agent had
 * journaled its intent and sent the request, nothing happened yet), or `after` it was performed
 * and before the answer reaches the agent (so the agent never journaled its completion).
 * One-shot: armed for the next call of one method.
 */
export const crashTrapSchema = z.strictObject({
  method: z.enum(['unbind', 'bind', 'unload', 'load']),
  when: z.enum(['before', 'after']),
  pid: z.number().int().positive(),
});
export type CrashTrap = z.infer<typeof crashTrapSchema>;

export class CrashTraps {
  private armed: CrashTrap | null = null;
  private fired: (CrashTrap & { at: number })[] = [];

  arm(raw: unknown): void {
    const parsed = crashTrapSchema.safeParse(raw);
    if (!parsed.success) throw new KernelActionError('EINVAL', `bad crash trap: ${z.prettifyError(parsed.error)}`);
    this.armed = parsed.data;
  }

  /** The trap for this call, disarmed as it is taken; null when none is armed for it. */
  take(method: string): CrashTrap | null {
    if (this.armed?.method !== method) return null;
    const trap = this.armed;
    this.armed = null;
    this.fired.push({ ...trap, at: Date.now() });
    return trap;
  }

  /** Traps that went off (and that are still armed), for the test to check. */
  status(): { armed: CrashTrap | null; fired: readonly (CrashTrap & { at: number })[] } {
    return { armed: this.armed, fired: this.fired };
  }

  static kill(trap: CrashTrap): void {
    try {
      process.kill(trap.pid, 'SIGKILL');
    } catch {
      // Already gone: the crash happened anyway.
    }
  }
}
