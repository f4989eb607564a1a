import type * as Fs from 'node:fs';
import type * as Os from 'node:os';
import type * as WorkerThreads from 'node:worker_threads';

/** What the look loop is started with (its worker's `workerData`). */
export interface LookLoopData {
  readonly procRoot: string;
  /** Int32 [0]: bumped by the agent after each message it posts, so a waiting loop wakes at once. */
  readonly wake: SharedArrayBuffer;
  /**
   * The agent's messages: `{ rdevs, follow: pids }` (what to look for, at whom: until then the
   * loop idles), `{ follow: pids }`, `{ flush: id }`, `{ stop: true }`. `rdevs` are the wanted
   * device numbers as glibc `dev_t` values, in decimal (what `stat` with bigint says).
   */
  readonly port: WorkerThreads.MessagePort;
}

/** A process's files on the wanted devices, told when they change and at its first look. */
export interface LookSighting {
  readonly pid: number;
  /**
   * CLOCK_MONOTONIC (`process.hrtime.bigint()`, shared by every thread) when the first of its
   * `files` was read (its link), or when its fd table was listed if it has none.
   */
  readonly atNs: bigint;
  readonly files: readonly { fd: number; path: string; rdev: bigint; ino: number }[];
}

export type LookMessage = { readonly sighting: LookSighting } | { readonly flushed: number };

/**
 * The recovery watch's tight look at known holders, run in a worker thread so that nothing the
 * agent's main thread does (spawning modprobe, GC, journal writes, JSON) delays it: under
 * QEMU/TCG those held looks back by tens of milliseconds right when applications reopen. Every
 * call here is synchronous: readdir and readlink of /proc/PID/fd are answered from memory, and
 * the loop sleeps in Atomics.wait between looks.
 *
 * A look first lists every process's fds and reads their links, each link stamped as it is
 * read; then a link that is a path, not " (deleted)" (a zombie) and not known to be on another
 * device is `stat`ed, and counts only if it reads the same after the stat, so the stamp belongs
 * to the file the stat saw. Stats come last because one can be slow right after a driver loads
 * (4-17 ms under QEMU/TCG): done in between, it pushed the next process's stamps that much past
 * its reopen. A link found on another device is not stat'ed again while its fd keeps it. A
 * process's sighting is posted when its files on the wanted devices differ from the last one
 * posted: a handful of messages per swap, not one per look.
 *
 * The cost is kept in proportion: the loop waits as long as its cheapest recent look took (at
 * least 1 ms), so it uses at most half a CPU (a few percent on a host, where a look takes tens
 * of microseconds), and only while holders are not back yet; the cheapest, because a look
 * preempted on a busy host is not a dear one. A sighting comes on average half a wait plus half
 * a look after the reopen.
 *
 * A look must not wait behind the agent's own work either: right when applications reopen, the
 * agent is loading and probing the new driver, and on a busy host (two vCPUs under QEMU/TCG,
 * the agent's main thread, the applications, modprobe) looks were seen to stall for tens of
 * milliseconds. So the loop raises its own thread's priority (nice LOOK_NICE, its thread id from
 * /proc/thread-self) when it may (root or CAP_SYS_NICE, as the agent runs); its duty cycle
 * above bounds what it takes.
 *
 * Self-contained on purpose: the agent starts it as `(${lookLoop})(require(...), ...)` in an eval
 * worker, so it runs from a bundled agent too. It may use nothing but its arguments.
 */
export function lookLoop(threads: typeof WorkerThreads, fs: typeof Fs, os: typeof Os): void {
  const LOOK_NICE = -10;
  const data = threads.workerData as LookLoopData;
  try {
    const threadId = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(threadId, LOOK_NICE);
  } catch {
    // Not allowed (an unprivileged agent, a test): the loop runs at the agent's own priority.
  }
  const wake = new Int32Array(data.wake);
  let wanted = new Set<string>();
  const unwanted = new Map<number, Map<string, string>>(); // pid -> fd -> link on another device
  const told = new Map<number, string>(); // pid -> key of the files last posted
  const recentCosts: number[] = [];
  let pids: number[] = [];
  const post = (message: LookMessage): void => data.port.postMessage(message);

  const readlink = (path: string): string | null => {
    try {
      return fs.readlinkSync(path);
    } catch {
      return null; // closed meanwhile, or the process is gone
    }
  };

  interface Listing {
    readonly pid: number;
    readonly fdDir: string;
    readonly atNs: bigint;
    /** The fds whose link may be on a wanted device: name, link, when the link was read. */
    readonly candidates: readonly (readonly [string, string, bigint])[];
  }

  /** A process's fd table, stamped when read; null when it is gone (or not ours to see). */
  const list = (pid: number): Listing | null => {
    const fdDir = `${data.procRoot}/${pid}/fd`;
    let names: string[];
    try {
      names = fs.readdirSync(fdDir);
    } catch {
      return null; // gone (ENOENT/ESRCH) or not ours to see (EACCES): the full watch tells which
    }
    const skip = unwanted.get(pid);
    const candidates: [string, string, bigint][] = [];
    for (const name of names) {
      const link = readlink(`${fdDir}/${name}`);
      if (link === null || !link.startsWith('/') || link.endsWith(' (deleted)')) continue;
      if (skip?.get(name) !== link) candidates.push([name, link, process.hrtime.bigint()]);
    }
    return { pid, fdDir, atNs: process.hrtime.bigint(), candidates };
  };

  /** Stats a listing's candidates and posts its files on the wanted devices if they changed. */
  const resolve = ({ pid, fdDir, atNs, candidates }: Listing): void => {
    const files: { fd: number; path: string; rdev: bigint; ino: number }[] = [];
    let seenNs = atNs;
    for (const [name, link, linkNs] of candidates) {
      const path = `${fdDir}/${name}`;
      let st: Fs.BigIntStats | undefined;
      try {
        st = fs.statSync(path, { bigint: true });
      } catch {
        continue; // closed meanwhile
      }
      const device = st.isCharacterDevice() || st.isBlockDevice();
      if (!device || !wanted.has(String(st.rdev))) {
        if (!unwanted.has(pid)) unwanted.set(pid, new Map());
        unwanted.get(pid)?.set(name, link);
        continue;
      }
      if (readlink(path) !== link) continue; // reopened meanwhile: the next look tells
      files.push({ fd: Number(name), path: link, rdev: st.rdev, ino: Number(st.ino) });
      if (linkNs < seenNs) seenNs = linkNs;
    }
    files.sort((a, b) => a.fd - b.fd);
    const key = files.map((f) => `${f.fd}:${f.rdev}:${f.ino}`).join(',');
    if (told.get(pid) === key) return;
    told.set(pid, key);
    post({ sighting: { pid, atNs: seenNs, files } });
  };

  for (;;) {
    const woken = Atomics.load(wake, 0);
    // A flush is answered after a whole look taken since it arrived, not as it is read: the
    // agent may ask the next one while this loop is still reading its messages.
    const flushes: number[] = [];
    for (let message = threads.receiveMessageOnPort(data.port); message;) {
      const body = message.message as { rdevs?: string[]; follow?: number[]; flush?: number; stop?: true };
      if (body.stop) return;
      if (body.rdevs) wanted = new Set(body.rdevs);
      if (body.follow) pids = body.follow;
      if (body.flush !== undefined) flushes.push(body.flush);
      message = threads.receiveMessageOnPort(data.port);
    }
    const started = process.hrtime.bigint();
    // Every fd table first, then the stats: a stat can be slow right after a driver loads (it
    // took 4-17 ms under QEMU/TCG), and must not hold back the next process's stamp.
    const listings = pids.map(list);
    for (const listing of listings) if (listing) resolve(listing);
    for (const id of flushes) post({ flushed: id });
    recentCosts.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (recentCosts.length > 8) recentCosts.shift();
    const waitMs = pids.length === 0 ? 1000 : Math.max(1, Math.min(...recentCosts));
    Atomics.wait(wake, 0, woken, waitMs);
  }
}
