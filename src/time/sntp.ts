/**
 * SNTP v4 client (RFC 4330) over UDP: how far the local clock is from a time server's clock.
 * One request, one reply; the offset is ((t1 - t0) + (t2 - t3)) / 2 and is positive when the
 * local clock is behind (add it to Date.now() to get server time).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { NetworkError, ParseError, TimeoutError, ValidationError } from '../errors';
import { checkTimerMs } from './timer-limits';

export const DEFAULT_SNTP_SERVER = 'pool.ntp.org';
export const DEFAULT_SNTP_PORT = 123;
export const DEFAULT_SNTP_TIMEOUT_MS = 3000;

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const PACKET_BYTES = 48;

export interface SntpOptions {
  server?: string;
  port?: number;
  timeoutMs?: number;
}

export interface SntpResult {
  /** Server time minus local time, in ms. */
  offsetMs: number;
  /** Round trip minus the server's processing time, in ms. */
  roundTripMs: number;
  stratum: number;
  server: string;
}

/** NTP 64-bit timestamp at `pos` to Unix ms (era 0 until 2036, era 1 after, per RFC 4330 section 3). */
export function readNtpTimestamp(buf: Buffer, pos: number): number {
  let seconds = buf.readUInt32BE(pos);
  const fraction = buf.readUInt32BE(pos + 4);
  if ((seconds & 0x80000000) === 0) seconds += 0x1_0000_0000;
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction * 1000) / 0x1_0000_0000;
}

/** Unix ms into an NTP 64-bit timestamp at `pos`. */
export function writeNtpTimestamp(buf: Buffer, pos: number, unixMs: number): void {
  const totalSeconds = Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET_S;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 0x1_0000_0000);
  buf.writeUInt32BE(totalSeconds % 0x1_0000_0000, pos);
  buf.writeUInt32BE(Math.min(fraction, 0xffffffff), pos + 4);
}

function checkOptions(opts: SntpOptions): Required<SntpOptions> {
  if (opts === null || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
  const server = opts.server ?? DEFAULT_SNTP_SERVER;
  if (typeof server !== 'string' || server.trim() === '') throw new ValidationError('server', server, 'must be a host name or IP address');
  const port = opts.port ?? DEFAULT_SNTP_PORT;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ValidationError('port', port, 'must be an integer from 1 to 65535');
  }
  const timeoutMs = checkTimerMs(opts.timeoutMs ?? DEFAULT_SNTP_TIMEOUT_MS, 'timeoutMs');
  return { server: server.trim(), port, timeoutMs };
}

/** One SNTP exchange. Rejects with TimeoutError, NetworkError (socket/DNS, kiss-o'-death) or ParseError. */
export function sntpQuery(opts: SntpOptions = {}): Promise<SntpResult> {
  let checked: Required<SntpOptions>;
  try {
    checked = checkOptions(opts);
  } catch (err) {
    return Promise.reject(err);
  }
  const { server, port, timeoutMs } = checked;
  const where = `SNTP server ${server}:${port}`;
  return new Promise<SntpResult>((resolve, reject) => {
    const socket: Socket = createSocket(isIPv6(server) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: Error | null, result?: SntpResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(result as SntpResult);
    };
    const timer = setTimeout(() => finish(new TimeoutError(`${where} did not answer within ${timeoutMs} ms`)), timeoutMs);

    // Local times come from Date.now() at send plus a monotonic delta, so a clock step mid-exchange cannot skew them.
    const request = Buffer.alloc(PACKET_BYTES);
    request[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
    let t0 = 0;
    let mono0 = 0;
    const sentOriginate = Buffer.alloc(8);

    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish(new NetworkError(`${where}: ${err.code ?? err.message}`, { cause: err }));
    });
    socket.on('message', (msg: Buffer) => {
      const t3 = t0 + (performance.now() - mono0);
      if (msg.length < PACKET_BYTES) return finish(new ParseError(`${where} sent a ${msg.length}-byte reply (expected at least ${PACKET_BYTES})`));
      // A reply to some earlier request (or a spoofed one) does not echo our transmit time: wait for ours.
      if (!msg.subarray(24, 32).equals(sentOriginate)) return;
      const li = msg[0] >> 6;
      const version = (msg[0] >> 3) & 7;
      const mode = msg[0] & 7;
      const stratum = msg[1];
      if (mode !== 4) return finish(new ParseError(`${where} sent mode ${mode} (expected 4, server)`));
      if (version < 1 || version > 4) return finish(new ParseError(`${where} sent NTP version ${version}`));
      if (stratum === 0) {
        const code = msg.subarray(12, 16).toString('latin1').replace(/[^\x20-\x7e]/g, '');
        return finish(new NetworkError(`${where} refused the request (kiss-o'-death "${code}")`));
      }
      if (li === 3 || stratum > 15) return finish(new NetworkError(`${where} is not synchronised (leap ${li}, stratum ${stratum})`));
      if (msg.readUInt32BE(40) === 0 && msg.readUInt32BE(44) === 0) return finish(new ParseError(`${where} sent no transmit timestamp`));
      const t1 = readNtpTimestamp(msg, 32);
      const t2 = readNtpTimestamp(msg, 40);
      finish(null, {
        offsetMs: (t1 - t0 + (t2 - t3)) / 2,
        roundTripMs: Math.max(0, t3 - t0 - (t2 - t1)),
        stratum,
        server,
      });
    });

    t0 = Date.now();
    mono0 = performance.now();
    writeNtpTimestamp(request, 40, t0);
    request.copy(sentOriginate, 0, 40, 48);
    socket.send(request, port, server, (err) => {
      if (err) finish(new NetworkError(`${where}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
    });
  });
}

/** Offset of the local clock to UTC in ms (server minus local; positive when the local clock is behind). */
export async function getTimeOffsetToUtc(opts: SntpOptions = {}): Promise<number> {
  return (await sntpQuery(opts)).offsetMs;
}
