import { z } from 'zod';
import { KernelActionError } from '../kernel-action.error.js';
import type { SimKernel } from './sim-kernel.js';

/**
 * What the sim host answers: every KernelPort method, plus the simulator's own (action log,
 * snapshot, driving processes). Params are validated here, at the process boundary.
 */
const name = z.string().min(1);
const deviceRef = z.object({ bus: name, id: name });
const params = z.array(z.string()).optional();
const loadSpec = z.union([
  z.strictObject({ module: name, file: name, params }),
  z.strictObject({ module: name, version: name.optional(), params }),
]);
const signal = z.enum(['SIGTERM', 'SIGKILL']);

export interface SimHostInfo {
  readonly host: string;
  readonly pid: number;
  readonly socket: string;
  readonly startedAt: number;
}

export interface SimMethodContext {
  readonly kernel: SimKernel;
  readonly info: () => SimHostInfo;
  readonly shutdown: () => void;
}

interface Method {
  run(ctx: SimMethodContext, raw: unknown): Promise<unknown>;
}

function method<S extends z.ZodType>(schema: S, fn: (ctx: SimMethodContext, p: z.output<S>) => unknown): Method {
  return {
    async run(ctx, raw) {
      const parsed = schema.safeParse(raw ?? {});
      if (!parsed.success) throw new KernelActionError('EINVAL', `bad params: ${z.prettifyError(parsed.error)}`);
      return fn(ctx, parsed.data);
    },
  };
}

export const simRpcMethods: Readonly<Record<string, Method>> = {
  findDevices: method(
    z.object({ query: z.object({ bus: name, driver: name, vendor: name.optional(), device: name.optional() }) }),
    (c, p) => c.kernel.findDevices(p.query),
  ),
  device: method(z.object({ ref: deviceRef }), (c, p) => c.kernel.device(p.ref)),
  classifyNodes: method(z.object({ ref: deviceRef }), (c, p) => c.kernel.classifyNodes(p.ref)),
  module: method(z.object({ name }), (c, p) => c.kernel.module(p.name)),
  resolveTarget: method(z.object({ spec: loadSpec }), (c, p) => c.kernel.resolveTarget(p.spec)),
  census: method(z.object({ rdevs: z.array(z.string()) }), (c, p) => c.kernel.census(p.rdevs)),
  watch: method(
    z.object({
      scope: z.object({ pids: z.array(z.number().int()), units: z.array(z.string()) }),
      rdevs: z.array(z.string()),
    }),
    (c, p) => c.kernel.watch(p.scope, p.rdevs),
  ),
  unbind: method(z.object({ ref: deviceRef }), (c, p) => c.kernel.unbind(p.ref)),
  bind: method(z.object({ ref: deviceRef, driver: name }), (c, p) => c.kernel.bind(p.ref, p.driver)),
  unload: method(z.object({ modules: z.array(name) }), (c, p) => c.kernel.unload(p.modules)),
  load: method(z.object({ spec: loadSpec }), (c, p) => c.kernel.load(p.spec)),
  signal: method(z.object({ pid: z.number().int(), signal }), (c, p) => c.kernel.signal(p.pid, p.signal)),
  openFile: method(z.object({ pid: z.number().int(), path: name, mmap: z.boolean().optional() }), (c, p) =>
    c.kernel.openFile(p.pid, p.path, p.mmap ?? false),
  ),
  closeFile: method(z.object({ pid: z.number().int(), fd: z.number().int() }), (c, p) =>
    c.kernel.closeFile(p.pid, p.fd),
  ),
  actionLog: method(z.object({ since: z.number().int().nonnegative().optional() }), (c, p) =>
    c.kernel.actionLog(p.since),
  ),
  snapshot: method(z.object({}), (c) => c.kernel.snapshot()),
  hostInfo: method(z.object({}), (c) => c.info()),
  shutdown: method(z.object({}), (c) => c.shutdown()),
};
