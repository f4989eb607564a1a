import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { startFleetProcess, type FleetProcess } from './child-process.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { paths } from './repo-paths.js';

/** One simulated host: its kernel (a sim host process) and its agent, each a real process. */
export interface SimHost {
  readonly hostId: string;
  readonly scenario: string;
  readonly socket: string;
  readonly stateDir: string;
  simHost: FleetProcess;
  agent: FleetProcess;
  readonly agentUrl: string;
}

/**
 * A whole simulated fleet for the tests and the demo: a private Redis, the controller and one
 * agent per scenario, all as separate processes, in a temp dir removed on stop.
 */
export class SimFleet {
  readonly hosts: SimHost[] = [];
  controller!: FleetProcess;
  controllerUrl = '';
  private constructor(
    readonly dir: string,
    readonly redis: PrivateRedis,
  ) {}

  static async start(options: { scenarios: readonly string[]; agentEnv?: NodeJS.ProcessEnv }): Promise<SimFleet> {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-fleet-'));
    const fleet = new SimFleet(dir, await startPrivateRedis());
    try {
      fleet.controller = await startFleetProcess('controller', [paths.controllerMain], {
        env: { REDIS_URL: fleet.redis.url, PORT: '0', LOG_LEVEL: 'warn' },
        logFile: join(dir, 'controller.log'),
      });
      fleet.controllerUrl = String(fleet.controller.ready['url']);
      for (const scenario of options.scenarios) await fleet.addHost(scenario, options.agentEnv);
      return fleet;
    } catch (error) {
      await fleet.stop();
      throw error;
    }
  }

  private async addHost(scenario: string, agentEnv?: NodeJS.ProcessEnv): Promise<void> {
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
    const host: SimHost = {
      hostId: '',
      scenario,
      socket,
      stateDir,
      simHost,
      agent: await this.startAgent(scenario, socket, stateDir, agentEnv),
      agentUrl: '',
    };
    Object.assign(host, { hostId: String(host.agent.ready['hostId']), agentUrl: String(host.agent.ready['url']) });
    this.hosts.push(host);
  }

  startAgent(scenario: string, socket: string, stateDir: string, env?: NodeJS.ProcessEnv): Promise<FleetProcess> {
    const argv = [paths.agentMain, '--kernel', 'sim', '--scenario', scenario, '--sim-socket', socket];
    return startFleetProcess(`agent ${basename(stateDir)}`, [...argv, '--state-dir', stateDir, '--port', '0'], {
      env: { REDIS_URL: this.redis.url, LOG_LEVEL: 'info', ...env },
      logFile: join(stateDir, 'agent.log'),
    });
  }

  /** Kill an agent as a crash would, and start a new one against the same simulated host. */
  async restartAgent(host: SimHost, env?: NodeJS.ProcessEnv): Promise<void> {
    await host.agent.kill();
    host.agent = await this.startAgent(host.scenario, host.socket, host.stateDir, env);
  }

  host(hostId: string): SimHost {
    const host = this.hosts.find((h) => h.hostId === hostId);
    if (!host) throw new Error(`no host ${hostId} in this fleet`);
    return host;
  }

  /** Stops everything, even if a step fails; keeps the logs when `keepDir`. */
  async stop(keepDir = false): Promise<void> {
    const all = [...this.hosts.map((h) => h.agent), this.controller, ...this.hosts.map((h) => h.simHost)];
    for (const proc of all) await proc?.stop().catch(() => undefined);
    await this.redis.stop().catch(() => undefined);
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
