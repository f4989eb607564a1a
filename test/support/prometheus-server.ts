import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureSystemDeps } from '@hotswap/tools';
import { stringify } from 'yaml';

/**
 * A real Prometheus server for the end-to-end tests (Debian's `prometheus` package, which also
 * ships promtool): a generated config in a temp dir, its TSDB there too, listening on a free
 * loopback port. Start it before the processes it scrapes (their URL may need it, e.g. the
 * controller's PROMETHEUS_URL), then give it its scrape jobs with `scrape()` (a config reload).
 */

/** One scrape job: `targets` are base URLs (`http://127.0.0.1:PORT`); `/metrics` is scraped. */
export interface ScrapeJob {
  readonly job: string;
  readonly targets: readonly string[];
}

export interface PrometheusOptions {
  /** Rule files loaded as they are (absolute paths). */
  readonly ruleFiles?: readonly string[];
  /** Rule files written into the temp dir first: file name → YAML text. */
  readonly generatedRules?: Readonly<Record<string, string>>;
  /** Default 1 s: scrape interval and timeout. */
  readonly scrapeIntervalSeconds?: number;
  /** Default 1 s. */
  readonly evaluationIntervalSeconds?: number;
  /** `--query.lookback-delta` (Prometheus's default is 5m). */
  readonly lookbackDelta?: string;
  readonly readyTimeoutMs?: number;
}

/** One series of an instant query's result (a scalar comes back as one series without labels). */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** An active alert, as `GET /api/v1/alerts` shows it. */
export interface PromAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
  readonly value: string;
}

export interface PromRuleGroup {
  readonly name: string;
  readonly file: string;
  readonly rules: readonly { name: string; type: 'alerting' | 'recording'; health: string; lastError?: string }[];
}

export interface PromTarget {
  readonly labels: Readonly<Record<string, string>>;
  readonly scrapeUrl: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
}

/**
 * Throws unless the Prometheus server can run: installs the package with apt-get when missing
 * (as root), so a test that needs it fails rather than skips when it cannot be had.
 */
export function requirePrometheus(): void {
  ensureSystemDeps(['promtool']);
  const version = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    throw new Error(
      `the prometheus server does not run (Debian package "prometheus"): ${version.error?.message ?? version.stderr}`,
    );
  }
}

/** A port nobody listens on right now (another process may take it before us: start() retries). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const hostPort = (url: string): string => new URL(url).host;

export class PrometheusServer {
  private jobs: readonly ScrapeJob[] = [];

  private constructor(
    readonly dir: string,
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly options: PrometheusOptions,
    readonly logFile: string,
  ) {}

  static async start(options: PrometheusOptions = {}): Promise<PrometheusServer> {
    requirePrometheus();
    const dir = mkdtempSync(join(tmpdir(), 'hotswap-prometheus-'));
    try {
      for (const [name, text] of Object.entries(options.generatedRules ?? {})) writeFileSync(join(dir, name), text);
      let lastError: unknown;
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          return await PrometheusServer.launch(dir, options, await freePort(), attempt);
        } catch (error) {
          lastError = error;
          if (!/address already in use/.test(String(error))) break;
        }
      }
      throw lastError;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private static async launch(
    dir: string,
    options: PrometheusOptions,
    port: number,
    attempt: number,
  ): Promise<PrometheusServer> {
    const logFile = join(dir, `prometheus.${attempt}.log`);
    const data = join(dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(dir, 'prometheus.yml'), PrometheusServer.config(dir, options, []));
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${data}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
        ...(options.lookbackDelta ? [`--query.lookback-delta=${options.lookbackDelta}`] : []),
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.pipe(log);
    let gone = false;
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        gone = true;
        resolve();
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    const server = new PrometheusServer(dir, url, child, exited, options, logFile);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (gone) {
        await new Promise((resolve) => log.end(resolve));
        throw new Error(`prometheus exited at start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      }
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return server;
      if (Date.now() > deadline) {
        await server.stop(true);
        throw new Error(`prometheus was not ready within ${options.readyTimeoutMs ?? 30_000} ms (log: ${logFile})`);
      }
      await sleep(100);
    }
  }

  private static config(dir: string, options: PrometheusOptions, jobs: readonly ScrapeJob[]): string {
    const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
    return stringify({
      global: {
        scrape_interval: interval,
        scrape_timeout: interval,
        evaluation_interval: `${options.evaluationIntervalSeconds ?? 1}s`,
      },
      rule_files: [...(options.ruleFiles ?? []), ...Object.keys(options.generatedRules ?? {}).map((f) => join(dir, f))],
      scrape_configs: jobs.map((job) => ({
        job_name: job.job,
        metrics_path: '/metrics',
        static_configs: [{ targets: job.targets.map(hostPort) }],
      })),
    });
  }

  /** Replaces the scrape jobs (a config reload); throws when Prometheus refuses the config. */
  async scrape(jobs: readonly ScrapeJob[]): Promise<void> {
    this.jobs = jobs;
    writeFileSync(join(this.dir, 'prometheus.yml'), PrometheusServer.config(this.dir, this.options, this.jobs));
    const response = await fetch(`${this.url}/-/reload`, { method: 'POST' });
    if (!response.ok) throw new Error(`prometheus reload: ${response.status} ${await response.text()}`);
  }

  private async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const query = new URLSearchParams(params).toString();
    const response = await fetch(`${this.url}/api/v1/${path}${query ? `?${query}` : ''}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { status: string; data?: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${response.status} ${body.error ?? ''}`);
    return body.data as T;
  }

  /** An instant query (at `time`, Unix ms, default now): one sample per series. */
  async query(expr: string, time?: number): Promise<PromSample[]> {
    const data = await this.api<{ resultType: string; result: unknown }>('query', {
      query: expr,
      ...(time === undefined ? {} : { time: String(time / 1000) }),
    });
    if (data.resultType === 'scalar') return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
    if (data.resultType !== 'vector') throw new Error(`query ${expr}: a ${data.resultType}, not a vector`);
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((series) => ({
      metric: series.metric,
      value: Number(series.value[1]),
    }));
  }

  async alerts(): Promise<PromAlert[]> {
    return (await this.api<{ alerts: PromAlert[] }>('alerts')).alerts;
  }

  async ruleGroups(): Promise<PromRuleGroup[]> {
    return (await this.api<{ groups: PromRuleGroup[] }>('rules')).groups;
  }

  async targets(): Promise<PromTarget[]> {
    return (await this.api<{ activeTargets: PromTarget[] }>('targets', { state: 'active' })).activeTargets;
  }

  /** SIGTERM (SIGKILL after 5 s); removes the temp dir unless `keepDir`. */
  async stop(keepDir = false): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
