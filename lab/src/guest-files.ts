import type { Runbook } from '@hotswap/runbook';
import { stringify } from 'yaml';
import type { Scenario } from './scenario.schema.js';
import { shellEnv, shQuote } from './shell-quote.js';

/** Where the guest finds kmod's tools (by absolute path: busybox's sh prefers its own applets). */
export const GUEST_KMOD = { modprobe: '/usr/sbin/modprobe', insmod: '/usr/sbin/insmod' } as const;

/** The agent's one-host mode in the guest, against the real kernel: `npm run lab -- --agent`. */
export const AGENT_SWAP_COMMAND =
  'node /hotswap/agent.js swap --runbook /lab/runbook.yaml --kernel linux --json --state-dir /run/hotswap';

/** The modules lab-watch follows: the scenario's, the swapped ones, and those a check names. */
export function watchedModules(scenario: Scenario, runbooks: readonly Runbook[]): string[] {
  const names = [
    ...scenario.modules,
    ...runbooks.flatMap((runbook) => runbook.spec.modules.map((step) => step.name)),
    ...scenario.checks.flatMap((check) => (check.check === 'module-pinned' ? [check.module] : [])),
  ].map((name) => name.replaceAll('-', '_'));
  return [...new Set(names)];
}

/**
 * The files under /lab in the guest that carry one scenario: what /init sources (lab.env),
 * the swap command, one command file per application, and per `swap.alternate` entry K the
 * runbook and the shell swap's plan derived from it (variants/K/, copied to /lab before each
 * cycle that uses it). Pure: paths relative to /lab -> contents.
 */
export function guestLabFiles(
  scenario: Scenario,
  runbooks: readonly Runbook[],
  swapCommand: string = scenario.swap.command,
): Map<string, string> {
  const files = new Map<string, string>();
  const apps = scenario.applications;
  const dryRun = scenario.checks.some((check) => check.check === 'dry-run-predictions')
    ? dryRunCommand(swapCommand)
    : null;
  files.set(
    'lab.env',
    shellEnv({
      LAB_SCENARIO: scenario.name,
      LAB_MODULES: scenario.modules.join(' '),
      LAB_WATCH_MODULES: watchedModules(scenario, runbooks).join(' '),
      LAB_WATCH_PATHS: scenario.checks
        .flatMap((check) => (check.check === 'unbind-blocked' && check.writeMarker ? [check.writeMarker] : []))
        .join(' '),
      LAB_APPS: apps.map((app) => app.name).join(' '),
      LAB_RESTARTING_APPS: apps.flatMap((app) => (app.recovers === 'restart' ? [app.name] : [])).join(' '),
      LAB_CYCLES: scenario.swap.cycles,
      LAB_VARIANTS: runbooks.length,
      // The agent's dry run before the first cycle of each variant, when a check wants it.
      LAB_DRY_RUN_CYCLES: dryRun === null ? 0 : runbooks.length,
      LAB_EXPECT: scenario.swap.expect,
      LAB_SETTLE_SECONDS: scenario.swap.settleSeconds,
      LAB_PAUSE_MS: scenario.swap.pauseMs,
    }),
  );
  files.set('swap.cmd', `${swapCommand}\n`);
  if (dryRun !== null) files.set('dry-run.cmd', `${dryRun}\n`);
  for (const app of apps) files.set(`apps/${app.name}.cmd`, `exec ${app.command}\n`);
  runbooks.forEach((runbook, variant) => {
    files.set(`variants/${variant}/runbook.yaml`, stringify(runbook));
    files.set(`variants/${variant}/swap.env`, swapEnv(runbook));
    files.set(`variants/${variant}/swap-load.sh`, loadScript(runbook));
  });
  return files;
}

/** The agent swap command with --dry-run; null when the swap command is not the agent. */
export function dryRunCommand(swapCommand: string): string | null {
  return swapCommand.includes('/hotswap/agent.js swap ') ? `${swapCommand} --dry-run` : null;
}

/** What lab-swap-shell needs from the runbook, as shell variables. */
function swapEnv(runbook: Runbook): string {
  const { devices, deadlines, modules } = runbook.spec;
  return shellEnv({
    SWAP_BUS: devices.bus,
    SWAP_DRIVER: devices.driver,
    SWAP_VENDOR: devices.vendor ?? '',
    SWAP_DEVICE: devices.device ?? '',
    SWAP_MODULES: modules.map((step) => step.name).join(' '),
    // Whole seconds: busybox's timeout takes no fractions.
    SWAP_UNBIND_SECONDS: Math.ceil(deadlines.unbindSeconds),
    SWAP_ZOMBIE_SECONDS: Math.ceil(deadlines.zombieCloseSeconds),
    SWAP_ACTION_SECONDS: Math.ceil(deadlines.actionSeconds),
  });
}

/** Loads, in the reverse of the unload order: a file with insmod, a version with modprobe. */
function loadScript(runbook: Runbook): string {
  const lines = [...runbook.spec.modules].reverse().map((step) => {
    const params = step.target.params.map(shQuote).join(' ');
    const command =
      'file' in step.target
        ? `${GUEST_KMOD.insmod} ${shQuote(step.target.file)}`
        : `${GUEST_KMOD.modprobe} ${shQuote(step.name)}`;
    return `${command}${params ? ` ${params}` : ''} || exit 1\n`;
  });
  return `# generated from the scenario's runbook: load order\n${lines.join('')}`;
}
