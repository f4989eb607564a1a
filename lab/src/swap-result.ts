import type { SwapReport } from '@hotswap/contracts';
import { z } from 'zod';

const holderSchema = z.object({ pid: z.number().int(), fd: z.number().int(), link: z.string() });

/** What test/kernel/guest/lab-swap-shell prints: the kernel's facts, no recovery figures. */
export const shellFactsSchema = z.looseObject({
  impl: z.literal('shell'),
  ok: z.boolean(),
  error: z.string().optional(),
  module: z.string().optional(),
  devices: z.array(z.string()).default([]),
  nodes: z.array(z.string()).default([]),
  holders: z.array(holderSchema).default([]),
  zombies: z.array(holderSchema).default([]),
  refcntAfterUnbind: z.number().int().optional(),
  unloadRefused: z.boolean().optional(),
  unloadRefusedMessage: z.string().optional(),
  at: z
    .object({
      start: z.number(),
      unbound: z.number(),
      refcntZero: z.number(),
      unloaded: z.number(),
      loaded: z.number(),
      probed: z.number(),
    })
    .optional(),
  srcversion: z.string().optional(),
  version: z.string().optional(),
});
export type ShellFacts = z.output<typeof shellFactsSchema>;

export type SwapResult =
  | { readonly kind: 'agent'; readonly report: SwapReport }
  | { readonly kind: 'shell'; readonly facts: ShellFacts }
  | { readonly kind: 'none'; readonly error: string };

function isSwapReport(value: unknown): value is SwapReport {
  if (value === null || typeof value !== 'object') return false;
  const report = value as Partial<SwapReport>;
  return typeof report.swapId === 'string' && typeof report.outcome === 'string' && Array.isArray(report.recoveries);
}

/**
 * Reads a swap command's stdout. Whatever ran in the guest, the runner tells by the shape:
 * the agent's one-host `--json` report (a SwapReport) or the shell swap's facts.
 */
export function parseSwapResult(stdout: readonly string[]): SwapResult {
  const text = stdout.join('\n').trim();
  if (text === '') return { kind: 'none', error: 'the swap command printed nothing on stdout' };
  const last = stdout.filter((line) => line.trim().startsWith('{')).at(-1) ?? text;
  let value: unknown;
  try {
    value = JSON.parse(last);
  } catch {
    return { kind: 'none', error: `stdout is not JSON: ${text.slice(0, 200)}` };
  }
  if (isSwapReport(value)) return { kind: 'agent', report: value };
  const facts = shellFactsSchema.safeParse(value);
  if (facts.success) return { kind: 'shell', facts: facts.data };
  return { kind: 'none', error: `stdout is neither an agent report nor shell facts: ${last.slice(0, 200)}` };
}
