import { appendFileSync } from 'node:fs';
import { parseGuestLine } from './guest-records.js';
import type { Progress } from './progress.js';

/** Keeps each ttyS1 line in the run's results.log and tells the human how the guest is doing. */
export function liveProgress(
  progress: Progress,
  resultsLog: string,
  cycles: number,
): (line: { line: string; atMs: number }) => void {
  return ({ line, atMs }) => {
    appendFileSync(resultsLog, `${line}\n`);
    const parsed = parseGuestLine(line, atMs);
    if (parsed?.kind !== 'record') return;
    const record = parsed.record;
    if (record.t === 'init') progress(`guest init reached ${(atMs / 1000).toFixed(1)} s after QEMU started`);
    if (record.t === 'agent-smoke') {
      progress(`bundled agent in the guest: exit ${record.exit} in ${Math.round(record.endAt - record.startAt)} ms`);
    }
    if (record.t === 'apps-ready') progress('applications hold their devices');
    if (record.t === 'swap') {
      const swapMs = Math.round(record.endAt - record.startAt);
      const settledMs = Math.round(record.settledAt - record.startAt);
      progress(`cycle ${record.cycle}/${cycles}: exit ${record.exit}, swap ${swapMs} ms, all reopened ${settledMs} ms`);
    }
    if (record.t === 'fatal') progress(`guest FATAL: ${record.msg}`);
  };
}
