import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SwapJob, SwapReport } from '@hotswap/contracts';
import { parseScenario } from '@hotswap/kernel';
import { hostname } from 'node:os';
import { createKernelAccess } from '../kernel/kernel-port.factory.js';
import { parseRunbook } from '@hotswap/runbook';
import { PtyHookExecutor } from '../hooks/pty-hook.executor.js';
import { FileSwapJournal } from '../journal/file-swap.journal.js';
import { HostLock } from '../lock/host.lock.js';
import { SwapJobHandler } from '../swap/swap-job.handler.js';

const USAGE = `usage: hotswap-agent swap --runbook FILE [--kernel linux|sim] [--scenario FILE] [--sim-socket PATH]
                          [--host-id ID] [--state-dir DIR] [--hooks-dir DIR] [--allow-shell-hooks] [--json]

--kernel linux (the default) swaps on this machine's kernel; --kernel sim on a simulated host
described by --scenario.

Runs one swap on this host, without Redis or a controller. Progress goes to stderr; the
report goes to stdout (JSON with --json). Exit status: 0 succeeded or skipped, 1 otherwise,
2 for bad usage.`;

/**
 * The one-host mode: the same swap handler, journal and host lock as the daemon, no Nest and
 * no BullMQ. Used by the kernel lab inside a guest and by operators on a single machine.
 */
export async function runOneHostSwap(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        runbook: { type: 'string' },
        kernel: { type: 'string', default: 'linux' },
        'host-id': { type: 'string' },
        scenario: { type: 'string' },
        'sim-socket': { type: 'string' },
        'state-dir': { type: 'string', default: '/var/lib/hotswap' },
        json: { type: 'boolean', default: false },
        'hooks-dir': { type: 'string', default: '/etc/hotswap/hooks' },
        'allow-shell-hooks': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const kernel = values.kernel;
  if (!values.runbook || (kernel !== 'sim' && kernel !== 'linux') || (kernel === 'sim' && !values.scenario)) {
    process.stderr.write(`--runbook and --kernel linux|sim are required (sim also needs --scenario)\n${USAGE}\n`);
    return 2;
  }
  const runbook = parseRunbook(await readFile(values.runbook, 'utf8'), values.runbook);
  const stateDir = values['state-dir'];
  const hostId =
    values['host-id'] ??
    (kernel === 'sim' ? parseScenario(await readFile(values.scenario ?? '', 'utf8')).host : shortHostname());
  const { port, facts } = await createKernelAccess({
    kernel,
    scenario: values.scenario,
    simSocket: values['sim-socket'],
    stateDir,
  });
  try {
    const hooks = new PtyHookExecutor({
      hooksDir: values['hooks-dir'],
      allowShell: values['allow-shell-hooks'],
      logDir: join(stateDir, 'hooks'),
    });
    const journal = new FileSwapJournal(join(stateDir, 'journal'));
    const handler = new SwapJobHandler(hostId, port, journal, new HostLock(stateDir), hooks, facts);
    const progress = {
      step: (phase: string, status: string, detail?: string) =>
        process.stderr.write(`${phase} ${status}${detail ? `: ${detail}` : ''}\n`),
    };
    // A swap a crashed run left behind is finished (or rolled back) first, and reported instead.
    const [left] = await handler.unfinished();
    const now = Date.now();
    let report: SwapReport;
    if (left) {
      process.stderr.write(`resuming swap ${left.swapId} left unfinished by a previous run\n`);
      report = await handler.handle(left.swapId, left.job, progress);
    } else {
      report = await handler.handle(`local-${now}`, localJob(hostId, runbook, now), progress);
    }
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : summary(report));
    return report.outcome === 'succeeded' || report.outcome === 'skipped' ? 0 : 1;
  } finally {
    await port.close();
  }
}

function localJob(hostId: string, runbook: unknown, now: number): SwapJob {
  return { v: 1, rolloutId: 'local', hostId, direction: 'forward', runbook, notAfter: now + 3600_000, enqueuedAt: now };
}

function shortHostname(): string {
  return hostname().split('.')[0]?.toLowerCase() ?? 'localhost';
}

function summary(report: SwapReport): string {
  const lines = [
    `${report.hostId}: ${report.outcome} (${report.modules.join(', ')}${
      report.fromVersion || report.toVersion ? ` ${report.fromVersion ?? '?'} -> ${report.toVersion ?? '?'}` : ''
    })`,
    ...report.recoveries.map(
      (r) => `  ${r.comm} [${r.pid}] ${r.status}${r.seconds === null ? '' : ` in ${r.seconds.toFixed(3)} s`}`,
    ),
  ];
  if (report.error) lines.push(`  error: ${report.error}`);
  return `${lines.join('\n')}\n`;
}
