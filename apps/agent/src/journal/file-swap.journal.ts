import { mkdir, open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SwapJob } from '@hotswap/contracts';
import { isTerminal, type SwapState } from '@hotswap/swap';
import type { SwapStateSink } from '../swap/swap.runner.js';

/** What the journal knows of one swap: the job that asked for it and its last written state. */
export interface JournaledSwap {
  readonly swapId: string;
  readonly job: SwapJob;
  readonly state: SwapState | null;
}

/**
 * The agent's crash-safe journal: one append-only JSON-lines file per swap under the state
 * directory. Every state is appended and fsynced BEFORE the runner acts on it, so an agent
 * killed between two steps finds, on restart, the last step it may have started and resumes it
 * (the kernel actions are idempotent). A torn last line (killed mid-write) is ignored.
 */
export class FileSwapJournal {
  constructor(private readonly dir: string) {}

  async begin(swapId: string, job: SwapJob): Promise<SwapStateSink> {
    await mkdir(this.dir, { recursive: true });
    await this.append(swapId, { job });
    return { write: (state) => this.append(swapId, { state }) };
  }

  /** A sink that goes on appending to an existing swap's journal (resume). */
  sink(swapId: string): SwapStateSink {
    return { write: (state) => this.append(swapId, { state }) };
  }

  async read(swapId: string): Promise<JournaledSwap | null> {
    let text: string;
    try {
      text = await readFile(this.file(swapId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    let job: SwapJob | null = null;
    let state: SwapState | null = null;
    for (const line of text.split('\n')) {
      if (!line) continue;
      let record: { job?: SwapJob; state?: SwapState };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        continue; // torn write at the end
      }
      if (record.job) job = record.job;
      if (record.state) state = record.state;
    }
    return job ? { swapId, job, state } : null;
  }

  /** Swaps whose last journaled state is not terminal: an agent crashed in the middle. */
  async unfinished(): Promise<JournaledSwap[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const swaps = await Promise.all(
      names.filter((n) => n.endsWith('.jsonl')).map((n) => this.read(n.slice(0, -'.jsonl'.length))),
    );
    return swaps.filter((s): s is JournaledSwap => s !== null && (s.state === null || !isTerminal(s.state)));
  }

  private async append(swapId: string, record: object): Promise<void> {
    const handle = await open(this.file(swapId), 'a');
    try {
      await handle.appendFile(`${JSON.stringify({ at: Date.now(), ...record })}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private file(swapId: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(swapId)) throw new Error(`invalid swap id "${swapId}"`);
    return join(this.dir, `${swapId}.jsonl`);
  }
}
