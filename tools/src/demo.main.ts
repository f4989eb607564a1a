import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './repo-paths.js';
import { SimFleet } from './sim-fleet.js';

/**
 * `npm run demo`: a private Redis, the controller and five agents on simulated hosts (separate
 * processes), one rollout of `deploy/runbooks/demo-hs-nic.yaml` over HTTP, live progress, and
 * a summary of what each host did and how fast each application came back.
 */

interface Step {
  phase: string;
  status: string;
  at: number;
  detail?: string;
}
interface Recovery {
  pid: number;
  comm: string;
  status: string;
  seconds: number | null;
  newPid?: number;
}
interface HostView {
  hostId: string;
  state: string;
  steps: Step[];
  report: {
    outcome: string;
    fromVersion: string | null;
    toVersion: string | null;
    zombieFds: number;
    recoveries: Recovery[];
    error: string | null;
    startedAt: number;
    endedAt: number;
  } | null;
}
interface RolloutView {
  id: string;
  state: string;
  decision: { reason: string };
  hosts: HostView[];
}

const DEMO_DIR = join(REPO_ROOT, 'tools/demo');

async function main(): Promise<void> {
  const scenarios = readdirSync(join(DEMO_DIR, 'hosts'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(DEMO_DIR, 'hosts', f));
  say(`starting a private Redis, the controller and ${scenarios.length} agents on simulated hosts...`);
  const fleet = await SimFleet.start({ scenarios });
  let failed = false;
  try {
    const hosts = fleet.hosts.map((h) => h.hostId);
    say(
      `controller at ${fleet.controllerUrl}; agents: ${fleet.hosts.map((h) => `${h.hostId} (${h.agentUrl}/metrics)`).join(', ')}`,
    );
    const runbook = readFileSync(join(DEMO_DIR, 'demo-hs-nic.yaml'), 'utf8').replace('__HOSTS__', hosts.join(', '));
    const created = await fetch(`${fleet.controllerUrl}/v1/rollouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml', authorization: `Bearer ${fleet.token}` },
      body: runbook,
    });
    const body = (await created.json()) as RolloutView & { message?: string };
    if (created.status !== 201) throw new Error(`rollout refused (${created.status}): ${JSON.stringify(body)}`);
    say(`rollout ${body.id} created: hs_nic 1.0 -> 2.0 on ${hosts.length} hosts, a canary then one at a time\n`);
    const final = await follow(fleet.controllerUrl, fleet.token, body.id);
    printSummary(final);
    failed = final.state !== 'succeeded';
  } finally {
    await fleet.stop();
  }
  if (failed) process.exitCode = 1;
}

/** Print each new step as it is reported, until the rollout ends. */
async function follow(controllerUrl: string, token: string, id: string): Promise<RolloutView> {
  const printed = new Map<string, number>();
  const deadline = Date.now() + 180_000;
  for (;;) {
    const answer = await fetch(`${controllerUrl}/v1/rollouts/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const view = (await answer.json()) as RolloutView;
    for (const host of view.hosts) {
      const seen = printed.get(host.hostId) ?? 0;
      for (const step of host.steps.slice(seen)) {
        if (step.status === 'started') continue;
        const mark = step.status === 'completed' ? 'ok ' : step.status === 'blocked' ? '.. ' : '!! ';
        say(`  ${host.hostId.padEnd(8)} ${mark}${step.phase.padEnd(15)} ${step.detail ?? ''}`);
      }
      printed.set(host.hostId, host.steps.length);
    }
    // Finished, or paused (the runbook's failure policy stops the rollout for an operator).
    if (['succeeded', 'failed', 'aborted', 'rolled-back', 'paused'].includes(view.state)) return view;
    if (Date.now() > deadline) throw new Error(`rollout ${id} still running after 180 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function printSummary(view: RolloutView): void {
  say(`\nrollout ${view.id}: ${view.state} (${view.decision.reason})\n`);
  say(
    `${'host'.padEnd(9)}${'outcome'.padEnd(17)}${'version'.padEnd(12)}${'zombies'.padEnd(9)}${'swap'.padEnd(8)}applications (recovery)`,
  );
  const all: number[] = [];
  for (const host of view.hosts) {
    const r = host.report;
    if (!r) {
      say(`${host.hostId.padEnd(9)}${host.state}`);
      continue;
    }
    const apps = r.recoveries
      .map((x) => {
        if (x.seconds !== null) all.push(x.seconds);
        const time = x.seconds === null ? '' : ` ${x.seconds.toFixed(3)} s`;
        return `${x.comm} ${x.status}${time}${x.newPid ? ` (new pid ${x.newPid})` : ''}`;
      })
      .join('; ');
    const version = r.outcome === 'skipped' ? `${r.toVersion}` : `${r.fromVersion}->${r.toVersion}`;
    const seconds = ((r.endedAt - r.startedAt) / 1000).toFixed(2);
    say(
      `${host.hostId.padEnd(9)}${r.outcome.padEnd(17)}${version.padEnd(12)}${String(r.zombieFds).padEnd(9)}${`${seconds}s`.padEnd(8)}${apps || '-'}`,
    );
    if (r.error) say(`${''.padEnd(9)}error: ${r.error}`);
  }
  if (all.length > 0) {
    const sorted = [...all].sort((a, b) => a - b);
    const p50 = sorted[Math.ceil(sorted.length / 2) - 1]!;
    say(
      `\nrecovery over ${all.length} applications: p50 ${p50.toFixed(3)} s, max ${sorted[sorted.length - 1]!.toFixed(3)} s`,
    );
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
