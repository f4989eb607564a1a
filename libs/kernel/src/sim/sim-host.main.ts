#!/usr/bin/env node
/**
 * The simulated host: `node sim-host.main.js --scenario FILE --socket PATH`. Prints one JSON
 * line `{"ready":true,"socket":PATH,"pid":N}` once it listens; stops on SIGTERM, SIGINT or a
 * `shutdown` request, removing the socket file.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SimHostServer } from './sim-host.server.js';
import { SimKernel } from './sim-kernel.js';
import { parseScenario } from './sim-scenario.schema.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { scenario: { type: 'string' }, socket: { type: 'string' } } });
  if (!values.scenario || !values.socket) {
    process.stderr.write('usage: sim-host.main.js --scenario FILE --socket PATH\n');
    process.exit(2);
  }
  const kernel = new SimKernel(parseScenario(await readFile(values.scenario, 'utf8')));
  const snapshot = await kernel.snapshot();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled([server.close(), kernel.close()]).then(() => process.exit(0));
  };
  const server = new SimHostServer(kernel, snapshot.host, { onShutdown: stop });
  await server.listen(values.socket);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ ready: true, socket: values.socket, pid: process.pid })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`sim host: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
