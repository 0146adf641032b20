import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { NetworkError, ParseError, TimeoutError, ValidationError } from '../../src/errors';
import { getTimeOffsetToUtc, readNtpTimestamp, sntpQuery, writeNtpTimestamp } from '../../src/time/sntp';

type Reply = (request: Buffer, now: number) => Buffer | Buffer[] | null;

/**
 * SNTP's own error bound: the offset is exact when both legs take equally long and off by at most half the round
 * trip otherwise (plus the 1 ms steps of Date.now on both sides). A busy machine widens the round trip, never this.
 */
function assertOffset(r: { offsetMs: number; roundTripMs: number }, expected: number): void {
  assert.ok(r.roundTripMs >= 0, `round trip ${r.roundTripMs}`);
  assert.ok(Math.abs(r.offsetMs - expected) <= r.roundTripMs / 2 + 2, `offset ${r.offsetMs}, expected ${expected} within half the round trip ${r.roundTripMs}`);
}

interface FakeServer {
  port: number;
  received: number;
  close(): Promise<void>;
}

/** A UDP time server on 127.0.0.1 whose clock runs `offsetMs` ahead of ours, or that answers via `reply`. */
async function startServer(opts: { offsetMs?: number; delayMs?: number; reply?: Reply } = {}): Promise<FakeServer> {
  const sock: Socket = createSocket('udp4');
  const state = { received: 0 };
  sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    state.received++;
    const t1 = Date.now() + (opts.offsetMs ?? 0);
    const send = (): void => {
      const out = opts.reply ? opts.reply(msg, t1) : goodReply(msg, t1, Date.now() + (opts.offsetMs ?? 0));
      if (out === null) return;
      for (const b of Array.isArray(out) ? out : [out]) sock.send(b, rinfo.port, rinfo.address);
    };
    if (opts.delayMs) setTimeout(send, opts.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return {
    port: (sock.address() as AddressInfo).port,
    get received() {
      return state.received;
    },
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

function goodReply(request: Buffer, t1: number, t2: number, patch?: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(48);
  b[0] = (0 << 6) | (4 << 3) | 4;
  b[1] = 2;
  b.write('GPS\0', 12, 'latin1');
  request.copy(b, 24, 40, 48); // originate = client's transmit
  writeNtpTimestamp(b, 32, t1);
  writeNtpTimestamp(b, 40, t2);
  patch?.(b);
  return b;
}

describe('sntp', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('computes a positive offset when the local clock is behind', async () => {
    server = await startServer({ offsetMs: 12_345 });
    const r = await sntpQuery({ server: '127.0.0.1', port: server.port });
    assertOffset(r, 12_345);
    assert.equal(r.stratum, 2);
    assert.equal(r.server, '127.0.0.1');
  });

  it('computes a negative offset and leaves server processing time out of the round trip', async () => {
    server = await startServer({ offsetMs: -90_000, delayMs: 60 });
    const started = performance.now();
    const r = await sntpQuery({ server: '127.0.0.1', port: server.port });
    const elapsed = performance.now() - started;
    assertOffset(r, -90_000);
    // The server held the reply for at least 60 ms; counted in, the round trip could not be below the whole exchange.
    assert.ok(r.roundTripMs <= elapsed - 60 + 2, `round trip ${r.roundTripMs} ms of a ${elapsed.toFixed(1)} ms exchange with 60 ms in the server`);
    // getTimeOffsetToUtc gives no round trip; its offset errs by at most half of it, which the whole call bounds.
    const callStarted = performance.now();
    const offset = await getTimeOffsetToUtc({ server: '127.0.0.1', port: server.port });
    assertOffset({ offsetMs: offset, roundTripMs: performance.now() - callStarted }, -90_000);
  });

  it('ignores replies that do not echo our request and uses the matching one', async () => {
    server = await startServer({
      offsetMs: 5000,
      reply: (req, now) => {
        const stale = goodReply(req, now + 1e6, now + 1e6, (b) => b.writeUInt32BE(12345, 24));
        return [stale, goodReply(req, now, Date.now() + 5000)];
      },
    });
    const r = await sntpQuery({ server: '127.0.0.1', port: server.port });
    assertOffset(r, 5000);
  });

  it("reports kiss-o'-death with its code", async () => {
    server = await startServer({
      reply: (req, now) =>
        goodReply(req, now, now, (b) => {
          b[1] = 0;
          b.write('RATE', 12, 'latin1');
        }),
    });
    await assert.rejects(sntpQuery({ server: '127.0.0.1', port: server.port }), (e: unknown) => {
      assert.ok(e instanceof NetworkError);
      assert.match(e.message, /kiss-o'-death "RATE"/);
      return true;
    });
  });

  it('rejects bad replies with ParseError or NetworkError', async () => {
    const cases: Array<[(b: Buffer) => void, RegExp, new (...a: never[]) => Error]> = [
      [(b) => (b[0] = (4 << 3) | 3), /mode 3/, ParseError],
      [(b) => (b[0] = (0 << 3) | 4), /version 0/, ParseError],
      [(b) => (b[0] = (3 << 6) | (4 << 3) | 4), /not synchronised/, NetworkError],
      [(b) => b.fill(0, 40, 48), /no transmit timestamp/, ParseError],
    ];
    for (const [patch, message, type] of cases) {
      server = await startServer({ reply: (req, now) => goodReply(req, now, now, patch) });
      await assert.rejects(sntpQuery({ server: '127.0.0.1', port: server.port }), (e: unknown) => e instanceof type && message.test(e.message));
      await server.close();
      server = undefined;
    }
    server = await startServer({ reply: () => Buffer.alloc(10) });
    await assert.rejects(sntpQuery({ server: '127.0.0.1', port: server.port }), /10-byte reply/);
  });

  it('times out when nobody answers', async () => {
    server = await startServer({ reply: () => null });
    await assert.rejects(sntpQuery({ server: '127.0.0.1', port: server.port, timeoutMs: 150 }), (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.code, 'ETIMEOUT');
      assert.match(e.message, /127\.0\.0\.1:\d+ did not answer within 150 ms/);
      return true;
    });
    assert.equal(server.received, 1);
  });

  it('reports unresolvable servers as NetworkError', async () => {
    await assert.rejects(sntpQuery({ server: 'no-such-host.invalid', timeoutMs: 2000 }), (e: unknown) => e instanceof NetworkError || e instanceof TimeoutError);
  });

  it('validates options (as a rejection)', async () => {
    const bad: Array<[object, string]> = [
      [{ server: '' }, 'server'],
      [{ server: 5 }, 'server'],
      [{ port: 0 }, 'port'],
      [{ port: 70000 }, 'port'],
      [{ port: 1.5 }, 'port'],
      [{ timeoutMs: NaN }, 'timeoutMs'],
      [{ timeoutMs: -1 }, 'timeoutMs'],
    ];
    for (const [opts, field] of bad) {
      await assert.rejects(sntpQuery(opts as never), (e: unknown) => e instanceof ValidationError && e.field === field);
    }
  });

  it('round-trips NTP timestamps, including after the 2036 era rollover', () => {
    const b = Buffer.alloc(8);
    for (const ms of [0, 1_700_000_000_123.5, Date.UTC(2036, 1, 7, 6, 28, 17), Date.UTC(2040, 0, 1)]) {
      writeNtpTimestamp(b, 0, ms);
      assert.ok(Math.abs(readNtpTimestamp(b, 0) - ms) < 0.001, `${ms}`);
    }
  });
});
