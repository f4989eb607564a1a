import { MessageChannel, Worker } from 'node:worker_threads';
import type { FilesSighting, HolderFilesWatch } from '../kernel.port.js';
import { formatDev, makeDev } from './dev-number.codec.js';
import { lookLoop, type LookLoopData, type LookMessage } from './holder-files.look.js';

/**
 * A flush the look loop does not answer in this time (a stat stuck on a remote file system) is
 * let go, and later ones resolve at once until the loop is heard from again: a stuck loop must
 * not hold the full watch back at every poll.
 */
const FLUSH_GIVE_UP_MS = 1000;

/**
 * The Linux files watch: holder-files.look.ts's loop in a worker thread, its stamps converted to
 * the agent's clock (`now()` minus how long ago on CLOCK_MONOTONIC, which both threads read), so
 * a sighting is dated when the fd table was read however late its message is heard.
 *
 * It is made in two steps because a worker thread takes a while to start: ~0.1 s on a busy
 * host, a second or more under QEMU/TCG, where an application that reopened in that time was
 * seen only by the slower full poll, 60-110 ms late. The constructor starts the worker idle;
 * `watch()` tells it what to look for. The adapter makes one ahead of an unbind
 * (`prepareFilesWatch`), so that it is running when the device goes.
 */
export class ProcHolderFilesWatch implements HolderFilesWatch {
  private readonly worker: Worker;
  private readonly port: MessageChannel['port1'];
  private readonly wake: Int32Array;
  private readonly flushes = new Map<number, () => void>();
  private nextFlush = 0;
  private closed: Promise<void> | null = null;
  private running = true;
  /** Before the loop runs, no look has been taken: nothing to flush. */
  private online = false;
  private stuck = false;
  private onSighting: ((sighting: FilesSighting) => void) | null = null;

  constructor(
    procRoot: string,
    private readonly now: () => number,
  ) {
    const { port1, port2 } = new MessageChannel();
    const wake = new SharedArrayBuffer(4);
    const workerData: LookLoopData = { procRoot, wake, port: port2 };
    this.worker = new Worker(
      `(${lookLoop.toString()})(require('node:worker_threads'), require('node:fs'), require('node:os'))`,
      {
        eval: true,
        workerData,
        transferList: [port2],
      },
    );
    this.port = port1;
    this.wake = new Int32Array(wake);
    this.worker.once('online', () => (this.online = true));
    this.port.on('message', (message: LookMessage) => this.heard(message));
    // The recovery watch closes it; one left open must not hold the agent's exit (unref after
    // the listener: adding one refs the port).
    this.worker.unref();
    this.port.unref();
    // A loop that fails leaves the full watch alone; pending flushes must not wait for it.
    const ended = (): void => {
      this.running = false;
      this.settleFlushes();
      this.port.close();
    };
    this.worker.once('error', ended);
    this.worker.once('exit', ended);
  }

  /** Starts looking at `pids`' files on the device numbers `rdevs` ("MAJOR:MINOR"). Once. */
  watch(rdevs: readonly string[], pids: readonly number[], onSighting: (sighting: FilesSighting) => void): this {
    if (this.onSighting) throw new Error('this files watch is already watching');
    this.onSighting = onSighting;
    this.tell({ rdevs: rdevs.map(devT), follow: [...pids] });
    return this;
  }

  follow(pids: readonly number[]): void {
    this.tell({ follow: [...pids] });
  }

  flush(): Promise<void> {
    if (!this.running || !this.online || this.stuck) return Promise.resolve();
    const id = this.nextFlush++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.stuck = true;
        done();
      }, FLUSH_GIVE_UP_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.flushes.delete(id);
        resolve();
      };
      this.flushes.set(id, done);
      this.tell({ flush: id });
    });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.running) {
        const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
        this.worker.ref(); // waited for now
        this.tell({ stop: true });
        await exited;
      }
      this.settleFlushes();
    })();
    return this.closed;
  }

  private tell(message: object): void {
    if (!this.running) return;
    this.port.postMessage(message);
    Atomics.add(this.wake, 0, 1);
    Atomics.notify(this.wake, 0);
  }

  private heard(message: LookMessage): void {
    // A message proves the loop runs: the worker's 'online' event comes on another channel and
    // may be heard after the loop's first sighting, and a flush asked before it would not wait.
    this.online = true;
    this.stuck = false;
    if ('flushed' in message) {
      this.flushes.get(message.flushed)?.();
      return;
    }
    const { pid, atNs, files } = message.sighting;
    const at = this.now() - Number(process.hrtime.bigint() - atNs) / 1e6;
    this.onSighting?.({
      pid,
      at,
      files: files.map((f) => ({ fd: f.fd, path: f.path, deleted: false, rdev: formatDev(f.rdev), ino: f.ino })),
    });
  }

  private settleFlushes(): void {
    for (const done of [...this.flushes.values()]) done();
  }
}

/** "MAJOR:MINOR" as the `dev_t` a bigint `stat` reports, in decimal. */
function devT(rdev: string): string {
  const [major, minor] = rdev.split(':').map(Number);
  return makeDev(major ?? 0, minor ?? 0).toString();
}
