import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOSTS_KEY, hostKey } from '@hotswap/contracts';
import { paths, startFleetProcess, type FleetProcess } from '@hotswap/tools';
import type { Redis } from 'ioredis';

/**
 * What the auth, audit and OpenAPI tests share: the controller as a real process (started
 * with the environment a test gives it, nothing inherited that concerns auth), plain HTTP
 * calls with or without a token, and a host registered the way an agent's heartbeat does.
 */

export const newToken = (): string => randomBytes(24).toString('hex');

/** Variables a developer's shell may set that would change what these tests start. */
const SCRUBBED = ['HOTSWAP_AUTH', 'HOTSWAP_TOKENS', 'HOTSWAP_TOKENS_FILE', 'REDIS_PASSWORD', 'REDIS_PASSWORD_FILE'];
const scrubbedEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([name]) => !SCRUBBED.includes(name)));

export interface TestController {
  readonly url: string;
  readonly process: FleetProcess;
  readonly logFile: string;
  stop(): Promise<void>;
}

export async function startController(env: Record<string, string>): Promise<TestController> {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-auth-test-'));
  const logFile = join(dir, 'controller.log');
  const child = await startFleetProcess('controller', [paths.controllerMain], {
    env: { ...scrubbedEnv(), PORT: '0', LOG_LEVEL: 'info', ...env },
    logFile,
  });
  return {
    url: String(child.ready['url']),
    process: child,
    logFile,
    stop: async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a controller that is expected to exit by itself (a refused configuration). */
export function runControllerToExit(
  env: Record<string, string>,
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [paths.controllerMain], {
    env: { ...scrubbedEnv(), PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the controller did not exit within ${timeoutMs} ms; stdout: ${stdout}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export async function call<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') ?? false;
  return { status: response.status, headers: response.headers, body: (json && text ? JSON.parse(text) : text) as T };
}

/** Registers a host exactly as the agent's HeartbeatService does. */
export async function registerHost(redis: Redis, hostId: string): Promise<void> {
  const now = Date.now();
  await redis
    .multi()
    .hset(hostKey(hostId), {
      hostId,
      agentVersion: '0.1.0',
      kernel: '6.8.0-test',
      labels: JSON.stringify({ rack: 'r1' }),
      lastSeen: String(now),
      busy: '0',
      metricsUrl: '',
    })
    .zadd(HOSTS_KEY, now, hostId)
    .exec();
}
