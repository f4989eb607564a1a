import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A Redis for one test run or one demo: a private redis-server on a unix socket in a temp dir
 * (no port to collide with, nothing shared), `maxmemory-policy noeviction` as BullMQ requires.
 * `url` is what ioredis takes: the socket path. When REDIS_URL is set, that Redis is used instead and nothing is started
 * (except with `password`: that needs a server of our own, started with `--requirepass`).
 */
export interface PrivateRedis {
  readonly url: string;
  stop(): Promise<void>;
  /**
   * Freeze the server (SIGSTOP) and thaw it (SIGCONT): to its clients a frozen Redis looks like a
   * network partition. Only a Redis of our own can be frozen.
   */
  freeze(): void;
  thaw(): void;
}

export async function startPrivateRedis(options: { password?: string } = {}): Promise<PrivateRedis> {
  const external = process.env['REDIS_URL'];
  if (external && options.password === undefined) {
    const refuse = (): never => {
      throw new Error('cannot freeze the Redis at REDIS_URL: this test needs a Redis of its own (unset REDIS_URL)');
    };
    return { url: external, stop: async () => undefined, freeze: refuse, thaw: refuse };
  }

  const dir = mkdtempSync(join(tmpdir(), 'hotswap-redis-'));
  const socket = join(dir, 'redis.sock');
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--dir',
      dir,
      ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 200 && !existsSync(socket); i++) {
    if (exited) throw new Error('redis-server exited at start (is it installed? run: apt-get install redis-server)');
    await sleep(25);
  }
  if (!existsSync(socket)) throw new Error(`redis-server did not create ${socket} within 5 s`);
  return {
    url: socket,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    stop: async () => {
      child.kill('SIGCONT'); // a frozen server cannot act on SIGTERM
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
