import { parseArgs } from 'node:util';
import { HOST_ID_PATTERN } from '@hotswap/contracts';
import { z } from 'zod';

/**
 * The agent's configuration, read and validated once at boot from flags and environment
 * (flags win). Nothing else reads process.env.
 *
 *   --host-id / HOST_ID          this host's id (default: the scenario's host for --kernel sim)
 *   --redis-url / REDIS_URL      Redis (a unix socket path or redis://host:port)
 *   --kernel / KERNEL            sim (linux comes with the Linux adapter)
 *   --scenario / SIM_SCENARIO    sim: the host's scenario file
 *   --sim-socket / SIM_SOCKET    sim: the simulated host's socket (started if nobody listens)
 *   --state-dir / STATE_DIR      journal and host lock (default /var/lib/hotswap)
 *   --port / PORT                HTTP port for /metrics and /healthz (0 = any free port)
 *   --labels / LABELS            host labels, "rack=r1,zone=z1"
 */
const configSchema = z
  .object({
    hostId: z.string().regex(HOST_ID_PATTERN, 'host id: lowercase letters, digits, ".", "_", "-"').optional(),
    redisUrl: z.string().min(1, 'REDIS_URL (or --redis-url) is required'),
    kernel: z.enum(['sim']),
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
    },
    strict: true,
  });
  const parsed = configSchema.safeParse({
    hostId: values['host-id'] ?? env['HOST_ID'],
    redisUrl: values['redis-url'] ?? env['REDIS_URL'],
    kernel: values.kernel ?? env['KERNEL'] ?? 'sim',
    scenario: values.scenario ?? env['SIM_SCENARIO'],
    simSocket: values['sim-socket'] ?? env['SIM_SOCKET'],
    stateDir: values['state-dir'] ?? env['STATE_DIR'],
    port: values.port ?? env['PORT'],
    bind: values.bind ?? env['BIND'],
    labels: values.labels ?? env['LABELS'],
    heartbeatMs: env['HEARTBEAT_MS'],
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || 'config'}: ${i.message}`);
    throw new Error(`invalid agent configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
