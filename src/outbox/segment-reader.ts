/** Sequential, chunked reading of the records in one segment file. */
import type { FileHandle } from 'node:fs/promises';
import { HEADER_BYTES, payloadMatches, readHeader } from './segment-framing';

/**
 * Reads this much at a time: thousands of small records cost a handful of syscalls, while dropping
 * or acking a few records (the common case) does not read megabytes.
 */
const CHUNK_BYTES = 128 * 1024;

export type SegmentRecord =
  | { kind: 'ok'; off: number; end: number; points: number; payload: Buffer; encoded: boolean }
  /** Unreadable from `off` on (torn tail, zero fill, bit rot): the caller decides what that means. */
  | { kind: 'bad'; off: number; reason: string };

/** Yields the records between `start` and `limit`; stops after the first bad one. */
export async function* readSegment(fh: FileHandle, start: number, limit: number): AsyncGenerator<SegmentRecord> {
  let chunk = Buffer.alloc(0);
  let chunkPos = start;
  let off = start;

  // Makes bytes [off, off+n) available in `chunk`; false when the segment ends first.
  const ensure = async (n: number): Promise<boolean> => {
    if (off >= chunkPos && off + n <= chunkPos + chunk.length) return true;
    if (off + n > limit) return false;
    const len = Math.min(Math.max(n, CHUNK_BYTES), limit - off);
    const buf = Buffer.allocUnsafe(len);
    const got = await readFully(fh, buf, off);
    chunk = buf.subarray(0, got);
    chunkPos = off;
    return got >= n;
  };

  while (off < limit) {
    if (!(await ensure(HEADER_BYTES))) {
      yield { kind: 'bad', off, reason: 'truncated record header' };
      return;
    }
    const rel = off - chunkPos;
    const header = readHeader(chunk, rel);
    if (!header) {
      yield { kind: 'bad', off, reason: 'no record header (bad magic or length)' };
      return;
    }
    const total = HEADER_BYTES + header.length;
    if (!(await ensure(total))) {
      yield { kind: 'bad', off, reason: `record of ${total} bytes runs past the end of the segment` };
      return;
    }
    const r = off - chunkPos;
    const headerBytes = chunk.subarray(r, r + HEADER_BYTES);
    const payload = chunk.subarray(r + HEADER_BYTES, r + total);
    if (!payloadMatches(header, headerBytes, payload)) {
      yield { kind: 'bad', off, reason: 'checksum mismatch' };
      return;
    }
    yield { kind: 'ok', off, end: off + total, points: header.points, payload, encoded: header.encoded };
    off += total;
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}
