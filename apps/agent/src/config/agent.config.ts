import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { HOST_ID_PATTERN, RedisUrlError, parseRedisUrl, type RedisTarget } from '@hotswap/contracts';
import { z } from 'zod';

/**
 * The agent's configuration, read and validated once at boot from flags and environment
 * (flags win). Nothing else reads process.env.
 *
 *   --host-id / HOST_ID          this host's id (default: the scenario's host with --kernel sim,
 *                                the hostname with --kernel linux)
 *   --redis-url / REDIS_URL      Redis (a unix socket path, redis://[user:pass@]host:port, rediss:// for TLS;
 *                                a cluster: redis+cluster://[user:pass@]host:port,host:port, rediss+cluster://)
 *   REDIS_PASSWORD               Redis password (not a flag: argv is visible to every user)
 *   --redis-password-file / REDIS_PASSWORD_FILE   a file holding it (trailing newline ignored)
 *   --redis-tls-ca-file / REDIS_TLS_CA_FILE       PEM CA to verify a rediss:// server with
 *   --kernel / KERNEL            linux (the real host) or sim (a simulated host)
 *   --scenario / SIM_SCENARIO    sim: the host's scenario file
 *   --sim-socket / SIM_SOCKET    sim: the simulated host's socket (started if nobody listens)
 *   --state-dir / STATE_DIR      journal and host lock (default /var/lib/hotswap)
 *   --port / PORT                HTTP port for /metrics and /healthz (0 = any free port)
 *   --labels / LABELS            host labels, "rack=r1,zone=z1"
 *   --hooks-dir / HOOKS_DIR      runbook hooks run only from here (default /etc/hotswap/hooks)
 *   --allow-shell-hooks          allow `shell: true` hooks (arbitrary scripts as root)
 */
const configSchema = z
  .object({
    hostId: z.string().regex(HOST_ID_PATTERN, 'host id: lowercase letters, digits, ".", "_", "-"').optional(),
    redisUrl: z.string().min(1, 'REDIS_URL (or --redis-url) is required'),
    kernel: z.enum(['sim', 'linux'], 'kernel: linux or sim'),
    scenario: z.string().optional(),
    simSocket: z.string().optional(),
    stateDir: z.string().min(1).default('/var/lib/hotswap'),
    port: z.coerce.number().int().min(0).max(65535).default(9464),
    bind: z.string().default('127.0.0.1'),
    labels: z
      .string()
      .default('')
      .transform((text, ctx) => {
        const labels: Record<string, string> = {};
        for (const pair of text.split(',').filter(Boolean)) {
          const [key, value] = pair.split('=');
          if (!key || value === undefined || !/^[a-z][a-z0-9_.-]*$/.test(key)) {
            ctx.addIssue({ code: 'custom', message: `label "${pair}" is not key=value` });
          } else labels[key] = value;
        }
        return labels;
      }),
    heartbeatMs: z.coerce.number().int().positive().default(2000),
    hooksDir: z.string().startsWith('/', 'hooks dir: an absolute path').default('/etc/hotswap/hooks'),
    allowShellHooks: z.boolean().default(false),
    redisPassword: z.string().min(1).optional(),
    redisTlsCa: z.string().optional(),
  })
  .refine((c) => c.kernel !== 'sim' || c.scenario, {
    message: '--kernel sim needs --scenario FILE',
    path: ['scenario'],
  });

export type AgentConfig = z.infer<typeof configSchema>;

export function loadAgentConfig(argv: readonly string[], env: NodeJS.ProcessEnv): AgentConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'host-id': { type: 'string' },
      'redis-url': { type: 'string' },
      kernel: { type: 'string' },
      scenario: { type: 'string' },
      'sim-socket': { type: 'string' },
      'state-dir': { type: 'string' },
      port: { type: 'string' },
      bind: { type: 'string' },
      labels: { type: 'string' },
      'redis-password-file': { type: 'string' },
      'redis-tls-ca-file': { type: 'string' },
      'hooks-dir': { type: 'string' },
      'allow-shell-hooks': { type: 'boolean' },
    },
    strict: true,
  });
  const redisUrl = values['redis-url'] ?? env['REDIS_URL'];
  const problems: string[] = [];
  const credentials = readRedisCredentials(
    redisUrl ?? '',
    env['REDIS_PASSWORD'] || undefined,
    values['redis-password-file'] ?? env['REDIS_PASSWORD_FILE'],
    values['redis-tls-ca-file'] ?? env['REDIS_TLS_CA_FILE'],
    (message) => problems.push(`  ${message}`),
  );
  const parsed = configSchema.safeParse({
    hostId: values['host-id'] ?? env['HOST_ID'],
    redisUrl,
    kernel: values.kernel ?? env['KERNEL'] ?? 'sim',
    scenario: values.scenario ?? env['SIM_SCENARIO'],
    simSocket: values['sim-socket'] ?? env['SIM_SOCKET'],
    stateDir: values['state-dir'] ?? env['STATE_DIR'],
    port: values.port ?? env['PORT'],
    bind: values.bind ?? env['BIND'],
    labels: values.labels ?? env['LABELS'],
    heartbeatMs: env['HEARTBEAT_MS'],
    hooksDir: values['hooks-dir'] ?? env['HOOKS_DIR'],
    allowShellHooks: values['allow-shell-hooks'] ?? env['ALLOW_SHELL_HOOKS'] === '1',
    ...credentials,
  });
  if (!parsed.success || problems.length > 0) {
    const lines = (parsed.success ? [] : parsed.error.issues).map(
      (i) => `  ${i.path.join('.') || 'config'}: ${i.message}`,
    );
    throw new Error(`invalid agent configuration:\n${[...lines, ...problems].join('\n')}`);
  }
  return parsed.data;
}

/**
 * The Redis password (inline or from a file) and TLS CA, read once here. Problems name the
 * variable, never the password; a password given twice (variable and URL) is an error.
 */
function readRedisCredentials(
  url: string,
  password: string | undefined,
  passwordFile: string | undefined,
  caFile: string | undefined,
  problem: (message: string) => void,
): { redisPassword?: string; redisTlsCa?: string } {
  let target: RedisTarget | undefined;
  try {
    target = url ? parseRedisUrl(url) : undefined;
  } catch (error) {
    if (!(error instanceof RedisUrlError)) throw error;
    problem(`REDIS_URL: ${error.message}`);
  }
  const read = (name: string, path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      problem(`${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return undefined;
    }
  };
  let redisPassword = password;
  if (passwordFile) {
    if (password !== undefined) problem('REDIS_PASSWORD_FILE: set REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both');
    redisPassword = read('REDIS_PASSWORD_FILE', passwordFile)?.replace(/\r?\n$/, '');
    if (redisPassword === '') problem(`REDIS_PASSWORD_FILE: ${passwordFile} is empty`);
  }
  const urlHasPassword = target?.kind === 'single' ? target.hasPassword : target?.password !== undefined;
  if (redisPassword !== undefined && urlHasPassword) {
    problem('REDIS_PASSWORD: REDIS_URL already carries a password: give it in one place only');
  }
  let redisTlsCa: string | undefined;
  if (caFile) {
    if (!target?.tls) problem('REDIS_TLS_CA_FILE: needs a rediss:// REDIS_URL (TLS)');
    redisTlsCa = read('REDIS_TLS_CA_FILE', caFile);
    if (redisTlsCa !== undefined && !redisTlsCa.includes('-----BEGIN CERTIFICATE-----')) {
      problem(`REDIS_TLS_CA_FILE: ${caFile} holds no PEM certificate`);
    }
  }
  return {
    ...(redisPassword ? { redisPassword } : {}),
    ...(redisTlsCa === undefined ? {} : { redisTlsCa }),
  };
}
