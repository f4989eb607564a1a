import { rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { CrashTraps } from './sim-crash.trap.js';
import type { SimKernel } from './sim-kernel.js';
import { simRpcMethods, type SimHostInfo } from './sim-rpc.methods.js';
import { encodeError, LineSplitter, type SimRpcRequest, type SimRpcResponse } from './sim-rpc.protocol.js';

export interface SimHostServerOptions {
  /** Called after the answer to a `shutdown` request is sent. */
  readonly onShutdown?: () => void;
}

/**
 * Serves a SimKernel on a unix socket. The kernel lives as long as this process, not as long
 * as a client: a client that goes away mid-call (an agent killed during a blocked unbind)
 * leaves the call running in the kernel, as a real kernel would.
 */
export class SimHostServer {
  private server: Server | null = null;
  private socketPath: string | null = null;
  private readonly clients = new Set<Socket>();
  private readonly startedAt = Date.now();
  private closing: Promise<void> | null = null;
  private readonly traps = new CrashTraps();

  constructor(
    private readonly kernel: SimKernel,
    private readonly host: string,
    private readonly options: SimHostServerOptions = {},
  ) {}

  /** Listens on `socketPath`, replacing a stale socket file; refuses if a live host answers there. */
  async listen(socketPath: string): Promise<void> {
    if (await answers(socketPath)) throw new Error(`another sim host already listens on ${socketPath}`);
    await rm(socketPath, { force: true });
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.socketPath = socketPath;
  }

  /** Stops listening, drops clients, removes the socket file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const server = this.server;
      // end() flushes answers already written (the reply to `shutdown`); destroy whoever lingers.
      this.clients.forEach((c) => c.end());
      setTimeout(() => this.clients.forEach((c) => c.destroy()), 200).unref();
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      if (this.socketPath) await rm(this.socketPath, { force: true }).catch(() => undefined);
    })();
    return this.closing;
  }

  private info(): SimHostInfo {
    return { host: this.host, pid: process.pid, socket: this.socketPath ?? '', startedAt: this.startedAt };
  }

  private serve(socket: Socket): void {
    this.clients.add(socket);
    socket.setEncoding('utf8');
    const lines = new LineSplitter();
    socket.on('data', (chunk: string) => lines.push(chunk).forEach((line) => this.handle(socket, line)));
    socket.on('error', () => undefined); // a client vanishing is normal
    socket.on('close', () => this.clients.delete(socket));
  }

  private handle(socket: Socket, line: string): void {
    let request: SimRpcRequest;
    try {
      request = JSON.parse(line) as SimRpcRequest;
      if (typeof request !== 'object' || request === null || typeof request.method !== 'string') throw new Error();
    } catch {
      reply(socket, { id: null, error: { code: 'EPROTO', message: `not a request: ${line.slice(0, 200)}` } });
      return;
    }
    const id = typeof request.id === 'number' ? request.id : null;
    if (request.method === 'armCrash' || request.method === 'crashTraps') {
      try {
        if (request.method === 'armCrash') this.traps.arm(request.params);
        reply(socket, { id, result: this.traps.status() });
      } catch (err) {
        reply(socket, { id, error: encodeError(err) });
      }
      return;
    }
    const method = Object.hasOwn(simRpcMethods, request.method) ? simRpcMethods[request.method] : undefined;
    if (!method) {
      reply(socket, { id, error: { code: 'EPROTO', message: `unknown method ${request.method}` } });
      return;
    }
    const shutdown = () => {
      // Answer first, then stop: the client sees its shutdown succeed.
      setImmediate(() => this.options.onShutdown?.());
    };
    const trap = this.traps.take(request.method);
    if (trap?.when === 'before') return CrashTraps.kill(trap); // the request dies with its sender
    method.run({ kernel: this.kernel, info: () => this.info(), shutdown }, request.params).then(
      (result) => (trap ? CrashTraps.kill(trap) : reply(socket, { id, result: result ?? null })),
      (err: unknown) => (trap ? CrashTraps.kill(trap) : reply(socket, { id, error: encodeError(err) })),
    );
  }
}

function reply(socket: Socket, response: SimRpcResponse): void {
  if (socket.destroyed || !socket.writable) return; // the caller left; the kernel action still happened
  socket.write(`${JSON.stringify(response)}\n`);
}

/** Whether something accepts connections on the socket (a stale file does not). */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
