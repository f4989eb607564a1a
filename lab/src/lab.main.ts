import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AccelRequest } from './accel.js';
import { timed } from './exec.js';
import { AGENT_SWAP_COMMAND } from './guest-files.js';
import { LabInfraError, ScenarioError } from './lab.errors.js';
import { labCacheRoot, SCENARIOS_DIR } from './lab-paths.js';
import type { LabReport } from './lab-report.js';
import { runScenario } from './lab.runner.js';
import { stderrProgress } from './progress.js';
import { renderText } from './report.text.js';
import { loadScenario } from './scenario.loader.js';
import { ensureLabPackages } from './system-packages.js';

const USAGE = `usage: npm run lab -- --scenario FILE [--scenario FILE...] [--agent] [--json] [--accel auto|kvm|tcg]
                      [--keep] [--verbose]
       npm run lab:ci            every scenario in test/kernel/scenarios (--ci)

--agent   run the agent's one-host mode in the guest instead of the scenario's swap command:
          ${AGENT_SWAP_COMMAND}

Boots Debian's kernel under QEMU with the scenario's modules, applications and swap command,
and checks the results. Progress on stderr; the report on stdout (one JSON object with --json).
Exit status: 0 every check passed, 1 a check failed, 2 bad usage or scenario, 3 the lab could
not run (packages, kernel, QEMU, boot, hard timeout): a failure, never a skip.`;

/** Exit statuses. */
const EXIT = { ok: 0, checkFailed: 1, usage: 2, infra: 3 } as const;

function loud(message: string): void {
  const bar = '#'.repeat(78);
  process.stderr.write(
    `${bar}\nKERNEL LAB COULD NOT RUN: ${message}\nThis is a failure, not a skipped test.\n${bar}\n`,
  );
}

async function allScenarios(): Promise<string[]> {
  const names = (await readdir(SCENARIOS_DIR)).filter((name) => /\.ya?ml$/.test(name)).sort();
  if (names.length === 0) throw new ScenarioError(`no scenario in ${SCENARIOS_DIR}`);
  return names.map((name) => join(SCENARIOS_DIR, name));
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenario: { type: 'string', multiple: true },
      ci: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      agent: { type: 'boolean', default: false },
      accel: { type: 'string', default: 'auto' },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (!['auto', 'kvm', 'tcg'].includes(values.accel))
    throw new ScenarioError(`--accel ${values.accel}: auto, kvm or tcg`);
  const files = values.ci ? await allScenarios() : (values.scenario ?? []).map((file) => resolve(file));
  if (files.length === 0) throw new ScenarioError('give --scenario FILE (or --ci for every scenario)');
  // --ci: a scenario that does not load fails the run, but does not stop the others.
  const loaded = [];
  const invalid: string[] = [];
  for (const file of files) {
    try {
      loaded.push(await loadScenario(file));
    } catch (error) {
      if (!values.ci || !(error instanceof ScenarioError)) throw error;
      invalid.push(error.message);
    }
  }

  const packages = await timed(() => ensureLabPackages(stderrProgress));
  const reports: LabReport[] = [];
  for (const scenario of loaded) {
    stderrProgress(`scenario ${scenario.scenario.name} (${scenario.file})`);
    reports.push(
      await runScenario({
        loaded: scenario,
        cacheRoot: labCacheRoot(),
        accel: values.accel as AccelRequest,
        keep: values.keep,
        verbose: values.verbose,
        progress: stderrProgress,
        packagesMs: packages.value.length > 0 ? packages.ms : null,
        swapCommand: values.agent ? AGENT_SWAP_COMMAND : null,
      }),
    );
  }
  if (values.json) {
    const single = reports.length === 1 ? reports[0] : { ok: reports.every((r) => r.ok), reports };
    process.stdout.write(`${JSON.stringify(single)}\n`);
  } else {
    process.stdout.write(reports.map(renderText).join('\n'));
  }
  const infra = reports.filter((report) => report.infraError !== null);
  for (const report of infra) loud(`${report.scenario}: ${report.infraError}`);
  for (const message of invalid) process.stderr.write(`lab: INVALID SCENARIO (counted as a failure):\n${message}\n`);
  if (infra.length > 0) return EXIT.infra;
  if (invalid.length > 0) return EXIT.usage;
  return reports.every((report) => report.ok) ? EXIT.ok : EXIT.checkFailed;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof LabInfraError) {
      loud(error.message);
      process.exit(EXIT.infra);
    }
    const usage = error instanceof ScenarioError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`lab: ${error instanceof Error ? error.message : String(error)}\n`);
    if (usage) process.stderr.write(`${USAGE}\n`);
    process.exit(usage ? EXIT.usage : EXIT.infra);
  },
);
