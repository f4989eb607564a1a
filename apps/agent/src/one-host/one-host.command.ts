import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SwapJob, SwapReport } from '@hotswap/contracts';
import { SimKernelAdapter, ensureSimHost, parseScenario } from '@hotswap/kernel';
import { parseRunbook } from '@hotswap/runbook';
import { PtyHookExecutor } from '../hooks/pty-hook.executor.js';
import { FileSwapJournal } from '../journal/file-swap.journal.js';
import { HostLock } from '../lock/host.lock.js';
import { SwapJobHandler } from '../swap/swap-job.handler.js';

const USAGE = `usage: hotswap-agent swap --runbook FILE --kernel sim --scenario FILE [--state-dir DIR] [--sim-socket PATH]
                          [--hooks-dir DIR] [--allow-shell-hooks] [--json]

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
        kernel: { type: 'string', default: 'sim' },
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
  if (!values.runbook || values.kernel !== 'sim' || !values.scenario) {
    process.stderr.write(`--runbook, --kernel sim and --scenario are required\n${USAGE}\n`);
    return 2;
  }
  const runbook = parseRunbook(await readFile(values.runbook, 'utf8'), values.runbook);
  const hostId = parseScenario(await readFile(values.scenario, 'utf8')).host;
  const stateDir = values['state-dir'];
  const socketPath = values['sim-socket'] ?? join(stateDir, 'sim-host.sock');
  await ensureSimHost({ scenarioPath: resolve(values.scenario), socketPath });
  const port = await SimKernelAdapter.connect(socketPath);
  const now = Date.now();
  const job: SwapJob = {
    v: 1,
    rolloutId: 'local',
    hostId,
    direction: 'forward',
    runbook,
    notAfter: now + 3600_000,
    enqueuedAt: now,
  };
  try {
    const hooks = new PtyHookExecutor({
      hooksDir: values['hooks-dir'],
      allowShell: values['allow-shell-hooks'],
      logDir: join(stateDir, 'hooks'),
    });
    const handler = new SwapJobHandler(
      hostId,
      port,
      new FileSwapJournal(join(stateDir, 'journal')),
      new HostLock(stateDir),
      hooks,
    );
    const report = await handler.handle(`local-${now}`, job, {
      step: (phase, status, detail) => process.stderr.write(`${phase} ${status}${detail ? `: ${detail}` : ''}\n`),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : summary(report));
    return report.outcome === 'succeeded' || report.outcome === 'skipped' ? 0 : 1;
  } finally {
    await port.close();
  }
}

function summary(report: SwapReport): string {
  const lines = [
    `${report.hostId}: ${report.outcome} (${report.modules.join(', ')} ${report.fromVersion} -> ${report.toVersion})`,
    ...report.recoveries.map(
      (r) => `  ${r.comm} [${r.pid}] ${r.status}${r.seconds === null ? '' : ` in ${r.seconds.toFixed(3)} s`}`,
    ),
  ];
  if (report.error) lines.push(`  error: ${report.error}`);
  return `${lines.join('\n')}\n`;
}
