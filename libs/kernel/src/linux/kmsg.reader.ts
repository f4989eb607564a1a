import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { parseKmsg, type KmsgRecord } from './kmsg.parser.js';

/** Where the kernel log stood: the sequence number of the last record seen (-1: empty log). */
export interface KmsgCursor {
  readonly seq: number;
}

export interface KmsgSince {
  readonly records: readonly KmsgRecord[];
  /** Records written after the cursor were overwritten in the ring buffer before being read. */
  readonly lost: boolean;
}

/** One read() of /dev/kmsg returns one record of at most this many bytes. */
const RECORD_MAX = 8192;
const MAX_BYTES = 16 * 1024 * 1024;

/**
 * Reads /dev/kmsg without blocking. Node has no lseek(SEEK_END), so the cursor is the last
 * record's sequence number: `cursor()` at swap start reads the buffer through, `since(cursor)`
 * at the end reads it again and keeps the newer records. A regular file of records (a captured
 * log) is read the same way, to its end.
 */
export class KmsgReader {
  constructor(private readonly path: string) {}

  /** The current end of the log; null when it cannot be read (no /dev/kmsg, no permission). */
  async cursor(): Promise<KmsgCursor | null> {
    const records = await this.readAll();
    if (records === null) return null;
    return { seq: records.reduce((max, r) => Math.max(max, r.seq), -1) };
  }

  /** The records written after the cursor; null when the log cannot be read. */
  async since(cursor: KmsgCursor): Promise<KmsgSince | null> {
    const records = await this.readAll();
    if (records === null) return null;
    const newer = records.filter((r) => r.seq > cursor.seq);
    const first = records[0];
    const lost = first !== undefined && first.seq > cursor.seq + 1;
    return { records: newer, lost };
  }

  private async readAll(): Promise<KmsgRecord[] | null> {
    let handle;
    try {
      handle = await open(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return null;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      const buf = Buffer.alloc(RECORD_MAX);
      while (total < MAX_BYTES) {
        let bytes: number;
        try {
          ({ bytesRead: bytes } = await handle.read(buf, 0, RECORD_MAX, null));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EPIPE') continue; // records overwritten under us: the next read goes on
          if (code === 'EAGAIN') break; // the end of the log
          throw err;
        }
        if (bytes === 0) break; // end of a regular file
        chunks.push(Buffer.from(buf.subarray(0, bytes)));
        total += bytes;
      }
    } catch {
      return null;
    } finally {
      await handle.close();
    }
    return parseKmsg(Buffer.concat(chunks).toString('utf8'));
  }
}
