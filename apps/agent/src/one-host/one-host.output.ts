import type { DryRunPlan, PredictionCheck, SwapReport } from '@hotswap/contracts';

/** The one-host mode's readable output: a dry run's plan, or a swap's report. */

const VERDICT_TEXT = { 'would-swap': 'would swap', 'would-refuse': 'would refuse', 'would-skip': 'would skip' };

export function dryRunText(plan: DryRunPlan): string {
  const versions = plan.modules
    .map((m) => `${m.name} ${m.version ?? '?'} -> ${m.target?.version ?? m.target?.file ?? '?'}`)
    .join(', ');
  const lines = [`${plan.hostId}: ${VERDICT_TEXT[plan.verdict]} (${versions}; runbook ${plan.runbook}; dry run)`];
  for (const reason of plan.reasons) lines.push(`  ${plan.verdict === 'would-skip' ? 'skip' : 'refusal'}: ${reason}`);
  for (const note of plan.notes) lines.push(`  note: ${note}`);
  lines.push('  devices:');
  for (const d of plan.devices) {
    const classes = [...new Set(d.nodes.map((n) => n.sysfsClass ?? '?'))].join(', ');
    lines.push(
      `    ${d.device} [${classes}] subsystem ${d.subsystem ?? 'unknown'}: ${d.revokeScheme ?? 'unknown scheme'}, ` +
        `fops owner ${d.fopsOwner ?? 'unknown'}, errno ${d.predictedErrno ?? 'unknown'} (predicted)`,
    );
    for (const h of d.holders) lines.push(`      held by PID ${h.pid} (${h.comm}): ${h.paths.join(', ')}`);
    for (const b of d.basis) lines.push(`      because ${b}`);
  }
  lines.push('  predictions:');
  for (const p of plan.predictions) lines.push(`    - ${p.statement} [${p.source}]`);
  for (const pin of plan.pins) {
    lines.push(`  ${pin.module} refcnt ${pin.refcnt} is held by PIDs ${pin.pids.join(', ')} (${pin.reason})`);
  }
  if (plan.rollback.length > 0) lines.push('  modprobe -r would remove (a rollback loads them back):');
  for (const m of plan.rollback) {
    const params = m.params.length > 0 ? ` ${m.params.join(' ')}` : '';
    lines.push(`    ${m.name} ${m.version ?? ''} ${m.file ?? '(file unknown)'}${params} [${m.why}]`);
  }
  return `${lines.join('\n')}\n`;
}

export function reportText(report: SwapReport): string {
  const mismatches = (report.predictions ?? []).filter((p) => p.held === false).length;
  const lines = [
    `${report.hostId}: ${report.outcome} (${report.modules.join(', ')}${
      report.fromVersion || report.toVersion ? ` ${report.fromVersion ?? '?'} -> ${report.toVersion ?? '?'}` : ''
    })${mismatches > 0 ? `; ${mismatches} prediction(s) did not hold` : ''}`,
    ...report.recoveries.map(
      (r) => `  ${r.comm} [${r.pid}] ${r.status}${r.seconds === null ? '' : ` in ${r.seconds.toFixed(3)} s`}`,
    ),
    ...(report.predictions ?? []).map(predictionLine),
    ...(report.pins ?? []).map((p) => `  ${p.module} refcnt ${p.refcnt} was held by PIDs ${p.pids.join(', ')}`),
  ];
  if (report.error) lines.push(`  error: ${report.error}`);
  return `${lines.join('\n')}\n`;
}

function predictionLine(p: PredictionCheck): string {
  const verdict = p.held === true ? 'held' : p.held === false ? 'MISMATCH' : 'not checked';
  const observed = p.observed === null ? '' : `, observed ${p.observed}`;
  return `  prediction ${verdict}: ${p.statement} (${p.note}${observed})`;
}
