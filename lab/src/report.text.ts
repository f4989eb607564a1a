import type { LabReport, LabTimings } from './lab-report.js';

const STATUS = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIP' } as const;

const ms = (value: number | null | undefined): string => (value === null || value === undefined ? '—' : `${value}`);
const seconds = (value: number | null): string => (value === null ? 'cached' : `${(value / 1000).toFixed(1)} s`);

function pad(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

function timingLines(t: LabTimings): string[] {
  const cycles = t.cyclesMs;
  const cycleRange = cycles.length > 0 ? `${Math.min(...cycles)}–${Math.max(...cycles)} ms` : '—';
  return [
    `  packages ${t.packagesMs === null ? 'already installed' : seconds(t.packagesMs)}; kernel download ${seconds(t.kernelDownloadMs)}, unpack ${seconds(t.kernelUnpackMs)}, depmod ${seconds(t.depmodMs)}`,
    `  scenario modules build ${t.moduleBuildMs === null ? 'cached or none' : seconds(t.moduleBuildMs)}; guest tools build ${ms(t.refappBuildMs)} ms; agent bundle ${ms(t.agentBundleMs)} ms; initramfs ${ms(t.initramfsStageMs)} ms stage + ${ms(t.initramfsPackMs)} ms cpio = ${t.initramfsBytes === null ? '—' : `${(t.initramfsBytes / 1e6).toFixed(1)} MB`}`,
    `  KVM probe ${t.accelProbeMs === null ? 'not run' : `${ms(t.accelProbeMs)} ms`}; boot to init ${ms(t.bootToInitMs)} ms; modules ${ms(t.modulesLoadMs)} ms; agent start ${ms(t.agentSmokeMs)} ms`,
    `  cycles (swap -> all reopened) ${cycleRange}; QEMU ${seconds(t.qemuWallMs)}; total ${seconds(t.totalMs)}`,
  ];
}

function applicationLines(report: LabReport): string[] {
  const lines: string[] = [];
  for (const app of report.applications) {
    const summary = app.appMs ? `median ${app.appMs.median} ms (${app.appMs.min}–${app.appMs.max})` : 'no figures';
    lines.push(`  ${app.name}  pid ${app.pid}  ${app.node}  holds its zombie ${app.holdMs} ms: ${summary}`);
    const rows = [
      ['cycle', 'errno', 'app ms', 'agent ms', 'diff ms', 'seen late', 'unbind tail', 'held ms', 'reopen errors'],
      ...app.cycles.map((cycle) => [
        String(cycle.cycle),
        cycle.errno ?? '—',
        ms(cycle.appMs),
        ms(cycle.agentMs),
        ms(cycle.diffMs),
        ms(cycle.seenLagMs),
        ms(cycle.unbindTailMs),
        ms(cycle.heldMs),
        cycle.openErrors.join(',') || '—',
      ]),
    ];
    lines.push(...pad(rows).map((row) => `    ${row}`));
  }
  return lines;
}

function moduleText(m: LabReport['cycles'][number]['modules'][number]): string {
  const version = m.versionBefore === m.versionAfter ? m.versionAfter : `${m.versionBefore}→${m.versionAfter}`;
  const gone = m.goneMs === null ? '' : ` gone ${m.goneMs} ms`;
  return `${m.name} ${version ?? 'absent'}${gone} refcnt ${m.refcntAfter ?? '—'}`;
}

/** The readable report: what ran, where the time went, each cycle, each application, each check. */
export function renderText(report: LabReport): string {
  const lines = [`kernel lab: ${report.scenario} — ${report.ok ? 'PASS' : 'FAIL'}`];
  if (report.infraError) lines.push(`  LAB COULD NOT RUN: ${report.infraError}`);
  if (report.kernel) lines.push(`  kernel  ${report.kernel.pkg} ${report.kernel.version} (${report.kernel.release})`);
  if (report.accel) lines.push(`  accel   ${report.accel.accel}: ${report.accel.reason}`);
  lines.push(`  swap    ${report.swapCommand}`);
  if (report.agentSmoke) {
    lines.push(`  agent   bundled agent in the guest: exit ${report.agentSmoke.exit} in ${report.agentSmoke.ms} ms`);
  }
  lines.push('timings', ...timingLines(report.timings));
  for (const [variant, target] of report.targets.entries()) {
    if (target)
      lines.push(
        `  target  [${variant}] ${target.file}: version ${target.version}, srcversion ${target.srcversion || '—'}`,
      );
  }
  if (report.cycles.length > 0) {
    const rows = [
      ['cycle', 'exit', 'swap ms', 'settled ms', 'modules (lab-watch)', 'detail'],
      ...report.cycles.map((c) => [
        String(c.cycle),
        String(c.exit),
        String(c.swapMs),
        String(c.settledMs),
        c.modules.map(moduleText).join('; '),
        c.error ?? c.detail,
      ]),
    ];
    lines.push('cycles', ...pad(rows).map((row) => `  ${row}`));
  }
  if (report.applications.length > 0) {
    lines.push(`applications — ${report.comparison.note}`, ...applicationLines(report));
    const diff = report.comparison.absDiffMs;
    if (diff) lines.push(`  |agent − app|: median ${diff.median} ms, max ${diff.max} ms over ${diff.n}`);
    const { absSeenLagMs: lag, unbindTailMs: tail } = report.comparison;
    if (lag && tail) {
      lines.push(
        `  diff = seen late (agent − reopen after the unbind returned; |median| ${lag.median} ms, max ${lag.max})` +
          ` − unbind tail (first error → unbind returned: median ${tail.median} ms, ${tail.min}–${tail.max})`,
      );
    }
  }
  lines.push('checks', ...report.checks.map((c) => `  ${STATUS[c.status]}  ${c.check}: ${c.detail}`));
  lines.push(`artifacts: ${report.artifacts.runDir}`);
  return `${lines.join('\n')}\n`;
}
