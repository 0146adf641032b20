/**
 * On-disk record framing of outbox segments.
 *
 *   0  u32 magic 'KOB1' or 'KOB2'
 *   4  u32 payload length (bytes)
 *   8  u32 point count (so accounting never has to parse JSON)
 *  12  u32 crc32 over bytes 4..12 and the payload
 *  16  payload: UTF-8 JSON of KairosPushMetric[]. KOB1: the batch as appended (checked and typed by the
 *      connector when sent). KOB2: the push body as it goes on the wire (already checked, typed and tagged
 *      by the connector's encoder), sent as it is.
 *
 * The magic catches zero-filled tails left by a crash; the CRC catches torn or half-written payloads.
 */
import { crc32 } from 'node:zlib';

export const HEADER_BYTES = 16;
export const MAGIC = 0x4b4f4231; // 'KOB1'
export const MAGIC_ENCODED = 0x4b4f4232; // 'KOB2'
/** Guards against a garbage length making us allocate gigabytes while reading a damaged segment. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

export function encodeRecord(payload: Buffer, points: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt32BE(payload.length, 4);
  out.writeUInt32BE(points, 8);
  payload.copy(out, HEADER_BYTES);
  out.writeUInt32BE(checksum(out.subarray(4, 12), payload), 12);
  return out;
}

/**
 * Writes one record whose payload is the UTF-8 of `json` (`payloadBytes` = its byte length) into `out`
 * at `at`; returns the offset after it. A group commit frames all its records into one buffer this
 * way instead of allocating and copying a Buffer per record.
 */
export function writeRecordInto(out: Buffer, at: number, json: string, payloadBytes: number, points: number): number {
  out.writeUInt32BE(MAGIC, at);
  out.writeUInt32BE(payloadBytes, at + 4);
  out.writeUInt32BE(points, at + 8);
  const start = at + HEADER_BYTES;
  out.write(json, start, payloadBytes, 'utf8');
  out.writeUInt32BE(checksum(out.subarray(at + 4, at + 12), out.subarray(start, start + payloadBytes)), at + 12);
  return start + payloadBytes;
}

/** Like writeRecordInto for a payload already in bytes: an encoded push body (a KOB2 record). */
export function writeEncodedRecordInto(out: Buffer, at: number, payload: Buffer, points: number): number {
  const start = writeEncodedHeaderInto(out, at, payload, points);
  payload.copy(out, start);
  return start + payload.length;
}

/**
 * Only the header of writeEncodedRecordInto's record (its offset after it returned): for a payload
 * large enough to be written from its own buffer rather than copied behind the header.
 */
export function writeEncodedHeaderInto(out: Buffer, at: number, payload: Buffer, points: number): number {
  out.writeUInt32BE(MAGIC_ENCODED, at);
  out.writeUInt32BE(payload.length, at + 4);
  out.writeUInt32BE(points, at + 8);
  out.writeUInt32BE(checksum(out.subarray(at + 4, at + 12), payload), at + 12);
  return at + HEADER_BYTES;
}

function checksum(lenAndPoints: Buffer, payload: Buffer): number {
  return crc32(payload, crc32(lenAndPoints)) >>> 0;
}

export interface RecordHeader {
  length: number;
  points: number;
  crc: number;
  /** A KOB2 record: the payload is the push body to send as it is. */
  encoded: boolean;
}

/** Null when the bytes at `offset` cannot start a record (no magic, absurd length). */
export function readHeader(buf: Buffer, offset: number): RecordHeader | null {
  if (buf.length - offset < HEADER_BYTES) return null;
  const magic = buf.readUInt32BE(offset);
  if (magic !== MAGIC && magic !== MAGIC_ENCODED) return null;
  const length = buf.readUInt32BE(offset + 4);
  if (length > MAX_PAYLOAD_BYTES) return null;
  return { length, points: buf.readUInt32BE(offset + 8), crc: buf.readUInt32BE(offset + 12), encoded: magic === MAGIC_ENCODED };
}

export function payloadMatches(header: RecordHeader, headerBytes: Buffer, payload: Buffer): boolean {
  return checksum(headerBytes.subarray(4, 12), payload) === header.crc;
}
