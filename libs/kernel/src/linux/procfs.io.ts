import { close, open, read, readdir, readlink, stat, type Stats } from 'node:fs';

/*
 * The /proc calls of a census, as callback-style fs calls wrapped once: on a host with a thousand
 * processes they are several thousand thread-pool round trips, and the callback API costs about
 * half of what fs.promises does per call (no FileHandle, no FSReqPromise). Every failure is an
 * answer (null): processes and fds vanish during a scan, and some are not ours to read.
 */

export function statOrNull(path: string): Promise<Stats | null> {
  return new Promise((resolve) => stat(path, (err, st) => resolve(err ? null : st)));
}

export function readlinkOrNull(path: string): Promise<string | null> {
  return new Promise((resolve) => readlink(path, (err, link) => resolve(err ? null : link)));
}

/** Directory entries, or the error code when it cannot be listed (ENOENT: the process is gone). */
export function readdirOrCode(path: string): Promise<string[] | string> {
  return new Promise((resolve) =>
    readdir(path, (err, names) => resolve(err ? ((err as NodeJS.ErrnoException).code ?? 'EIO') : names)),
  );
}

const CHUNK = 64 * 1024;
const MAX = 16 * 1024 * 1024;
const spare: Buffer[] = [];

/**
 * Reads a /proc file with open + read(s) + close into a reused buffer: fewer thread-pool round
 * trips than `readFile` (no fstat: procfs sizes are 0 anyway). Null when it cannot be read.
 */
export function readProcText(path: string): Promise<string | null> {
  return new Promise((resolve) => {
    open(path, 'r', (err, fd) => {
      if (err) return resolve(null);
      const first = spare.pop() ?? Buffer.allocUnsafe(CHUNK);
      const parts: Buffer[] = [];
      let total = 0;
      const done = (text: string | null) => {
        spare.push(first);
        close(fd, () => resolve(text));
      };
      const next = (buf: Buffer, inFirst: boolean) => {
        read(fd, buf, 0, buf.length, null, (readErr, bytes) => {
          if (readErr) return done(null);
          if (bytes === 0) return done(join(first, parts, total));
          total += bytes;
          if (!inFirst) parts.push(buf.subarray(0, bytes));
          if (total >= MAX) return done(join(first, parts, total));
          // procfs hands out what fits in one seq_file batch per read: read on until 0.
          if (total < CHUNK) next(first.subarray(total), true);
          else next(Buffer.allocUnsafe(CHUNK), false);
        });
      };
      next(first, true);
    });
  });
}

function join(first: Buffer, parts: Buffer[], total: number): string {
  if (total <= CHUNK) return first.toString('utf8', 0, total);
  return Buffer.concat([first, ...parts]).toString('utf8', 0, total);
}
