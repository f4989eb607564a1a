import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { PrivateRedis } from './private-redis.js';

const run = promisify(execFile);

/**
 * A three-node Redis Cluster for one test run: three redis-server processes on free ports of
 * 127.0.0.1 (`--cluster-enabled yes`, `maxmemory-policy noeviction` as BullMQ requires), no
 * replicas, in a temp dir of their own, joined by `redis-cli --cluster create`. `url` is the
 * `redis+cluster://` URL the agent and the controller take as REDIS_URL. `stop()` ends the
 * three servers and removes the dir; so does this process's exit, should a test never get to
 * call it.
 */
export interface PrivateRedisCluster extends PrivateRedis {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
}

const HOST = '127.0.0.1';
const NODES = 3;
/** Attempts with fresh ports: another process may take a port between our check and the bind. */
const START_ATTEMPTS = 3;

export async function startPrivateRedisCluster(options: { password?: string } = {}): Promise<PrivateRedisCluster> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-redis-cluster-'));
    const servers: ChildProcess[] = [];
    const cleanUp = (): void => {
      for (const server of servers) if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', cleanUp);
    try {
      const ports = await freePorts(NODES * 2);
      const nodes = ports.slice(0, NODES).map((port) => ({ host: HOST, port }));
      for (const [i, node] of nodes.entries()) {
        servers.push(startNode(join(dir, `node-${node.port}`), node.port, ports[NODES + i]!, options.password));
      }
      const auth = options.password === undefined ? [] : ['--no-auth-warning', '-a', options.password];
      await Promise.all(nodes.map((node, i) => waitForPing(node.port, servers[i]!, auth)));
      await run(
        'redis-cli',
        [
          ...auth,
          '--cluster',
          'create',
          ...nodes.map((node) => `${node.host}:${node.port}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      );
      await Promise.all(nodes.map((node) => waitForClusterOk(node.port, auth)));
      return {
        nodes,
        url: `redis+cluster://${nodes.map((node) => `${node.host}:${node.port}`).join(',')}`,
        freeze: () => servers.forEach((server) => server.kill('SIGSTOP')),
        thaw: () => servers.forEach((server) => server.kill('SIGCONT')),
        stop: async () => {
          await Promise.all(servers.map(stopServer));
          process.off('exit', cleanUp);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
      await Promise.all(servers.map(stopServer));
      process.off('exit', cleanUp);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new Error(`could not start a private Redis Cluster: ${(lastError as Error).message}`);
}

function startNode(dir: string, port: number, busPort: number, password: string | undefined): ChildProcess {
  mkdirSync(dir);
  // stdout carries redis-server's own log: dropped, as the single private Redis does.
  return spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', HOST, '--cluster-port', String(busPort)],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
      // Node failure detection is beside the point here; a short timeout only makes a loaded
      // machine flap, so keep the default (15 s).
      ...['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir],
      ...(password === undefined ? [] : ['--requirepass', password, '--masterauth', password]),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const gone = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGCONT'); // a frozen server cannot act on SIGTERM
  server.kill('SIGTERM');
  await gone;
}

/** `count` distinct free TCP ports, held open together so that none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    while (ports.length < count) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, resolve);
      });
      const { port } = server.address() as { port: number };
      // A cluster bus port defaults to port + 10000; ours are explicit, but keep both in range.
      if (port <= 55535) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

async function cli(port: number, auth: readonly string[], ...command: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), ...auth, ...command], { timeout: 5000 });
  return stdout;
}

async function waitForPing(port: number, server: ChildProcess, auth: readonly string[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(
        `redis-server on port ${port} exited at start (is it installed? run: apt-get install redis-server)`,
      );
    }
    if ((await cli(port, auth, 'ping').catch(() => '')).trim() === 'PONG') return;
    await sleep(25);
  }
  throw new Error(`redis-server on port ${port} did not answer PING within 5 s`);
}

/** Every node must see every slot served (`cluster_state:ok`) before a client is let in. */
async function waitForClusterOk(port: number, auth: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (/^cluster_state:ok\r?$/m.test(await cli(port, auth, 'cluster', 'info').catch(() => ''))) return;
    await sleep(100);
  }
  throw new Error(`cluster node on port ${port} did not reach cluster_state:ok within 30 s`);
}
