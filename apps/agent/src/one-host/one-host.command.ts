import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DryRunPlan, SwapJob, SwapReport } from '@hotswap/contracts';
import { parseScenario, type KernelPort } from '@hotswap/kernel';
import { dryRunPlan, planFromRunbook, uninspectableDryRun } from '@hotswap/swap';
import { hostname } from 'node:os';
import { createKernelAccess } from '../kernel/kernel-port.factory.js';
import { parseRunbook, type Runbook } from '@hotswap/runbook';
import type { HostFacts } from '../kernel/host-facts.js';
import { inspectHost } from '../swap/host.inspection.js';
import { dryRunText, reportText } from './one-host.output.js';
import { PtyHookExecutor } from '../hooks/pty-hook.executor.js';
import { FileSwapJournal } from '../journal/file-swap.journal.js';
import { HostLock } from '../lock/host.lock.js';
import { SwapJobHandler } from '../swap/swap-job.handler.js';

const USAGE = `usage: hotswap-agent swap --runbook FILE [--kernel linux|sim] [--scenario FILE] [--sim-socket PATH]
                          [--host-id ID] [--state-dir DIR] [--hooks-dir DIR] [--allow-shell-hooks]
                          [--dry-run] [--json]

--kernel linux (the default) swaps on this machine's kernel; --kernel sim on a simulated host
described by --scenario.

Runs one swap on this host, without Redis or a controller. Progress goes to stderr; the
report goes to stdout (JSON with --json). Exit status: 0 succeeded or skipped, 1 otherwise,
2 for bad usage.

--dry-run reads the host and prints the plan (verdict, per-device predictions, who pins the
stack, what a rollback would load back) without any kernel action, lock or journal. Exit
status: 0 would swap or skip, 1 would refuse.`;

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
        'dry-run': { type: 'boolean', default: false },
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
    if (values['dry-run']) {
      const plan = withUnfinished(
        await dryRun(port, facts, hostId, runbook),
        await new FileSwapJournal(join(stateDir, 'journal')).unfinished(),
      );
      process.stdout.write(values.json ? `${JSON.stringify(plan)}\n` : dryRunText(plan));
      return plan.verdict === 'would-refuse' ? 1 : 0;
    }
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
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : reportText(report));
    return report.outcome === 'succeeded' || report.outcome === 'skipped' ? 0 : 1;
  } finally {
    await port.close();
  }
}

/** Reads the host as preflight would and plans the swap; touches nothing. */
async function dryRun(
  port: KernelPort,
  facts: HostFacts | null,
  hostId: string,
  runbook: Runbook,
): Promise<DryRunPlan> {
  const plan = planFromRunbook(runbook);
  const meta = { hostId, runbook: runbook.metadata.name, at: Date.now() };
  try {
    return dryRunPlan(plan, await inspectHost(port, facts, plan), meta);
  } catch (error) {
    return uninspectableDryRun(error instanceof Error ? error.message : String(error), meta);
  }
}

/** A real run would first finish (or roll back) what a crashed run left: the dry run says so. */
function withUnfinished(plan: DryRunPlan, unfinished: readonly { swapId: string }[]): DryRunPlan {
  if (unfinished.length === 0) return plan;
  const notes = unfinished.map(
    (u) => `swap ${u.swapId} was left unfinished by a previous run: a real run finishes (or rolls back) it first`,
  );
  return { ...plan, notes: [...plan.notes, ...notes] };
}

function localJob(hostId: string, runbook: unknown, now: number): SwapJob {
  return { v: 1, rolloutId: 'local', hostId, direction: 'forward', runbook, notAfter: now + 3600_000, enqueuedAt: now };
}

function shortHostname(): string {
  return hostname().split('.')[0]?.toLowerCase() ?? 'localhost';
}
