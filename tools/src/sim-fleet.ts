import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { startFleetProcess, type FleetProcess } from './child-process.js';
import { startPrivateRedisCluster } from './private-redis-cluster.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { paths } from './repo-paths.js';

/** One simulated host: its kernel (a sim host process) and its agent, each a real process. */
export interface SimHost {
  readonly hostId: string;
  readonly scenario: string;
  readonly socket: string;
  readonly stateDir: string;
  readonly labels: SimLabels;
  simHost: FleetProcess;
  agent: FleetProcess;
  readonly agentUrl: string;
}

/** The fleets this process runs (see controllerToken). */
const running = new Set<SimFleet>();

/**
 * The operator token of the fleet whose controller (any replica) serves `url`, if this process
 * started it: the tests' HTTP helpers send it as `Authorization: Bearer` without every test
 * passing it.
 */
export function controllerToken(url: string): string | undefined {
  const serves = (base: unknown): boolean => url === base || url.startsWith(`${String(base)}/`);
  return [...running].find((fleet) => fleet.controllers.some((c) => serves(c.ready['url'])))?.token;
}

/** Host labels, as an agent reports them (`--labels rack=r1,zone=z1`). */
export type SimLabels = Readonly<Record<string, string>>;

/**
 * One host of a fleet: an existing scenario file, or a scenario generated from a template into
 * the fleet's temp dir (`{{key}}` placeholders filled from `vars`; `{{name}}` is the name). The
 * agent is started with `labels`.
 */
export type SimHostSpec =
  | { readonly scenario: string; readonly labels?: SimLabels }
  | {
      readonly name: string;
      readonly template: string;
      readonly vars?: Readonly<Record<string, string>>;
      readonly labels?: SimLabels;
    };

export interface SimFleetOptions {
  /** Scenario files, one host each (the spine's form). */
  readonly scenarios?: readonly string[];
  readonly hosts?: readonly SimHostSpec[];
  readonly agentEnv?: NodeJS.ProcessEnv;
  /** Added to the controller's environment (e.g. SWEEP_SECONDS). */
  readonly controllerEnv?: NodeJS.ProcessEnv;
  /** Hosts started at the same time (default 1); starting is CPU-bound. */
  readonly startConcurrency?: number;
  /** One private Redis (default), or a private three-node Redis Cluster. */
  readonly redis?: 'single' | 'cluster';
}

/** Fills `{{key}}` placeholders; a placeholder without a value is an error, not an empty string. */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`scenario template: no value for {{${key}}}`);
    return value;
  });
}

/**
 * A whole simulated fleet for the tests and the demo: a private Redis (or Redis Cluster), the
 * controller and one agent per host, each on its own simulated host, all as separate processes,
 * in a temp dir removed on stop.
 */
export class SimFleet {
  readonly hosts: SimHost[] = [];
  controller!: FleetProcess;
  controllerUrl = '';
  /** Every controller process started, the current one last (restarts and replicas). */
  readonly controllers: FleetProcess[] = [];
  /** An operator token the controller accepts: send it as `Authorization: Bearer <token>`. */
  readonly token = randomBytes(24).toString('hex');
  private controllerEnv: NodeJS.ProcessEnv = {};
  private constructor(
    readonly dir: string,
    readonly redis: PrivateRedis,
  ) {}

  static async start(options: SimFleetOptions): Promise<SimFleet> {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-fleet-'));
    const redis = options.redis === 'cluster' ? await startPrivateRedisCluster() : await startPrivateRedis();
    const fleet = new SimFleet(dir, redis);
    fleet.controllerEnv = options.controllerEnv ?? {};
    running.add(fleet);
    try {
      fleet.controller = await fleet.startController();
      fleet.controllerUrl = String(fleet.controller.ready['url']);
      const specs: SimHostSpec[] = [
        ...(options.scenarios ?? []).map((scenario) => ({ scenario })),
        ...(options.hosts ?? []),
      ];
      const concurrency = Math.max(1, options.startConcurrency ?? 1);
      const order = new Map<SimHost, number>();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < specs.length) {
          const index = next++;
          const host = await fleet.startHost(specs[index]!, options.agentEnv);
          order.set(host, index);
          fleet.hosts.push(host); // at once: stop() must find it if another host fails to start
        }
      };
      // allSettled: when one host fails, the others finish starting before stop() runs.
      const settled = await Promise.allSettled(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      // In the order given, whatever order they became ready in.
      fleet.hosts.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
      return fleet;
    } catch (error) {
      await fleet.stop();
      throw error;
    }
  }

  /**
   * Starts a controller process against the fleet's Redis (a replica, or the replacement of a
   * killed one). The fleet's URL keeps pointing at `controller`; see `replaceController`.
   */
  async startController(name = `controller-${this.controllers.length + 1}`): Promise<FleetProcess> {
    const controller = await startFleetProcess(name, [paths.controllerMain], {
      env: {
        REDIS_URL: this.redis.url,
        PORT: '0',
        LOG_LEVEL: 'warn',
        HOTSWAP_TOKENS: `fleet:operator:${this.token}`,
        ...this.controllerEnv,
      },
      logFile: join(this.dir, `${name}.log`),
    });
    this.controllers.push(controller);
    return controller;
  }

  /** Kills the controller with SIGKILL, as a crash would, and starts a new one in its place. */
  async replaceController(): Promise<void> {
    await this.controller.kill();
    this.controller = await this.startController();
    this.controllerUrl = String(this.controller.ready['url']);
  }

  private async startHost(spec: SimHostSpec, agentEnv?: NodeJS.ProcessEnv): Promise<SimHost> {
    let scenario: string;
    if ('scenario' in spec) scenario = spec.scenario;
    else {
      mkdirSync(join(this.dir, 'scenarios'), { recursive: true });
      scenario = join(this.dir, 'scenarios', `${spec.name}.yaml`);
      writeFileSync(scenario, renderTemplate(spec.template, { name: spec.name, ...spec.vars }));
    }
    const name = basename(scenario).replace(/\.(ya?ml|json)$/, '');
    const stateDir = join(this.dir, name);
    mkdirSync(stateDir, { recursive: true });
    const socket = join(stateDir, 'sim.sock');
    const simHost = await startFleetProcess(
      `sim-host ${name}`,
      [paths.simHostMain, '--scenario', scenario, '--socket', socket],
      {
        logFile: join(stateDir, 'sim-host.log'),
      },
    );
    const labels = spec.labels ?? {};
    const host: SimHost = {
      hostId: '',
      scenario,
      socket,
      stateDir,
      labels,
      simHost,
      agent: await this.startAgent(scenario, socket, stateDir, agentEnv, labels),
      agentUrl: '',
    };
    Object.assign(host, { hostId: String(host.agent.ready['hostId']), agentUrl: String(host.agent.ready['url']) });
    return host;
  }

  startAgent(
    scenario: string,
    socket: string,
    stateDir: string,
    env?: NodeJS.ProcessEnv,
    labels: SimLabels = {},
  ): Promise<FleetProcess> {
    const argv = [paths.agentMain, '--kernel', 'sim', '--scenario', scenario, '--sim-socket', socket];
    if (Object.keys(labels).length > 0) argv.push('--labels', labelsArg(labels));
    return startFleetProcess(`agent ${basename(stateDir)}`, [...argv, '--state-dir', stateDir, '--port', '0'], {
      env: { REDIS_URL: this.redis.url, LOG_LEVEL: 'info', ...env },
      logFile: join(stateDir, 'agent.log'),
    });
  }

  /** Kill an agent as a crash would, and start a new one against the same simulated host. */
  async restartAgent(host: SimHost, env?: NodeJS.ProcessEnv): Promise<void> {
    await host.agent.kill();
    host.agent = await this.startAgent(host.scenario, host.socket, host.stateDir, env, host.labels);
  }

  host(hostId: string): SimHost {
    const host = this.hosts.find((h) => h.hostId === hostId);
    if (!host) throw new Error(`no host ${hostId} in this fleet`);
    return host;
  }

  /** Stops everything, even if a step fails; keeps the logs when `keepDir`. */
  async stop(keepDir = false): Promise<void> {
    const all = [...this.hosts.map((h) => h.agent), ...this.controllers, ...this.hosts.map((h) => h.simHost)];
    for (const proc of all) await proc?.stop().catch(() => undefined);
    await this.redis.stop().catch(() => undefined);
    running.delete(this);
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

const labelsArg = (labels: SimLabels): string =>
  Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
