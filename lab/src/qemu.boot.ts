import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { LabInfraError } from './lab.errors.js';

export const QEMU = 'qemu-system-x86_64';

export interface TimedLine {
  readonly line: string;
  /** Milliseconds since QEMU was started. */
  readonly atMs: number;
}

export interface BootOptions {
  readonly args: readonly string[];
  /** Hard limit: `timeout -k 5 <timeoutSeconds>`; a hung guest can ignore SIGTERM. */
  readonly timeoutSeconds: number;
  readonly consoleLog: string;
  readonly resultsSocket: string | null;
  readonly onResultLine?: (line: TimedLine) => void;
  readonly onConsoleLine?: (line: TimedLine) => void;
  /** Ends the boot early (SIGTERM) once a console line satisfies it: the probe's success. */
  readonly stopOnConsole?: (line: string) => boolean;
}

export interface BootResult {
  readonly exitCode: number;
  readonly timedOut: boolean;
  readonly stoppedEarly: boolean;
  readonly wallMs: number;
  readonly results: readonly TimedLine[];
  readonly consoleTail: readonly string[];
}

/** Without CRs (the tty may add them) and the BIOS's terminal escapes. */
// eslint-disable-next-line no-control-regex
const printable = (line: string): string => line.replace(/\x1b(\[[0-9;?]*[A-Za-z]|c)|\r/g, '');

/** Splits a byte stream into lines, each stamped on arrival. */
function lineSplitter(start: number, onLine: (line: TimedLine) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine({ line: printable(line), atMs: Math.round(performance.now() - start) });
  };
}

async function listen(socketPath: string, onData: (chunk: Buffer) => void): Promise<Server> {
  await rm(socketPath, { force: true });
  const server = createServer((connection) => connection.on('data', onData));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return server;
}

/** Boots QEMU under `timeout -k 5`, keeps the console in a file, collects ttyS1's lines. */
export async function bootGuest(options: BootOptions): Promise<BootResult> {
  const start = performance.now();
  const results: TimedLine[] = [];
  const consoleTail: string[] = [];
  const log = createWriteStream(options.consoleLog);
  const onResults = lineSplitter(start, (line) => {
    results.push(line);
    options.onResultLine?.(line);
  });
  const server = options.resultsSocket ? await listen(options.resultsSocket, onResults) : null;
  let stoppedEarly = false;
  try {
    const child = spawn('timeout', ['-k', '5', String(options.timeoutSeconds), QEMU, ...options.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onConsole = lineSplitter(start, (line) => {
      consoleTail.push(line.line);
      if (consoleTail.length > 60) consoleTail.shift();
      options.onConsoleLine?.(line);
      if (!stoppedEarly && options.stopOnConsole?.(line.line)) {
        stoppedEarly = true;
        child.kill('SIGTERM');
      }
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        log.write(chunk);
        onConsole(chunk);
      });
    }
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.on('error', (error) => reject(new LabInfraError(`cannot start QEMU: ${error.message}`)));
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    // GNU timeout: 124 after SIGTERM at the limit, 137 after the SIGKILL that follows.
    const timedOut = !stoppedEarly && (exitCode === 124 || exitCode === 137);
    return { exitCode, timedOut, stoppedEarly, wallMs: Math.round(performance.now() - start), results, consoleTail };
  } finally {
    await new Promise<void>((resolve) => log.end(resolve));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
