import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sinon from 'sinon';
import { KairosConnector } from '../../src/kairos/connector';
import { AuthenticationError } from '../../src/errors';
import { Outbox } from '../../src/outbox/outbox';
import { WriteQueue, type WriteQueueOptions, type WriteQueueStatus } from '../../src/outbox/write-queue';
import type { KairosPushMetric, WriteResult } from '../../src/types';
import { closeSenders, connectorSender, PushServer } from './push-server';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function point(name: string, ts: number, host = 'h1'): KairosPushMetric[] {
  return [{ name, tags: { host }, type: 'long', datapoints: [[ts, ts * 10]] }];
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const fastRetry = { initialMs: 20, maxMs: 100, factor: 2 };

describe('WriteQueue', function () {
  let server: PushServer;
  const queues: WriteQueue[] = [];
  const boxes: Outbox[] = [];
  const dirs: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  const makeQueue = (opts: Partial<WriteQueueOptions> = {}): WriteQueue => {
    const q = new WriteQueue({ send: connectorSender(() => server.url), maxDelayMs: 50, retry: fastRetry, ...opts });
    queues.push(q);
    return q;
  };
  const makeOutbox = async (dir?: string): Promise<Outbox> => {
    const d = dir ?? (await fs.mkdtemp(join(tmpdir(), 'wq-test-')));
    if (!dir) dirs.push(d);
    const box = await Outbox.open({ dir: d });
    boxes.push(box);
    return box;
  };

  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => process.off('unhandledRejection', onUnhandled));
  beforeEach(async () => {
    server = new PushServer();
    await server.start();
  });
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.close(500);
    for (const b of boxes.splice(0)) await b.close();
    for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
    await closeSenders();
    await server.stop();
    assert.deepEqual(unhandled, [], 'no unhandled promise rejections');
  });

  it('coalesces messages of one window into one request, one entry per series', async () => {
    const results: Array<WriteResult & { attempt: number }> = [];
    // The window ends at flush(), not on a timer, so a busy machine cannot cut it in two.
    const q2 = makeQueue({ maxDelayMs: 60_000, onResult: (r) => results.push(r) });
    await Promise.all(Array.from({ length: 300 }, (_, i) => q2.enqueue(point(i % 2 ? 'a' : 'b', 1000 + i, i % 3 ? 'h1' : 'h2'))));
    await q2.flush();
    assert.equal(server.requests.length, 1);
    const sent = server.requests[0].metrics;
    assert.equal(sent.length, 4, 'a/h1, a/h2, b/h1, b/h2');
    assert.equal(sent.reduce((n, m) => n + (m.datapoints?.length ?? 0), 0), 300);
    const a1 = sent.find((m) => m.name === 'a' && m.tags.host === 'h1');
    const ts = (a1?.datapoints ?? []).map((p) => p[0]);
    assert.deepEqual(ts, [...ts].sort((x, y) => x - y), 'arrival order kept within a series');
    assert.deepEqual(results, [{ written: 300, rejected: 0, errors: [], requests: 1, attempt: 1 }]);
  });

  it('turns a steady stream into about one request per window', async () => {
    const q = makeQueue({ maxDelayMs: 100 });
    const t0 = Date.now();
    let n = 0;
    // ~500 messages over ~500 ms (one every millisecond or so); bounded by count and time.
    while (n < 500 && Date.now() - t0 < 1500) {
      await q.enqueue(point('stream', ++n));
      if (n % 5 === 0) await sleep(1);
    }
    await q.flush();
    const elapsed = Date.now() - t0;
    assert.equal(server.storedPoints().size, n);
    assert.ok(server.requests.length <= Math.ceil(elapsed / 100) + 2, `${server.requests.length} requests for ${n} messages in ${elapsed} ms`);
  });

  it('splits at maxBatchPoints and sends full batches without waiting for the window', async () => {
    const q = makeQueue({ maxBatchPoints: 1000, maxDelayMs: 60_000 });
    const big: KairosPushMetric[] = [{ name: 'big', tags: { host: 'h1' }, datapoints: Array.from({ length: 2500 }, (_, i) => [i + 1, i] as [number, number]) }];
    await q.enqueue(big);
    await until(() => server.requests.length >= 2, 'two full requests');
    assert.deepEqual(
      server.requests.map((r) => r.metrics[0].datapoints?.length),
      [1000, 1000],
    );
    await q.flush(); // the 500 left would otherwise wait for the 60 s window
    assert.equal(server.storedPoints().size, 2500);
    assert.ok(server.requests.every((r) => (r.metrics[0].datapoints?.length ?? 0) <= 1000));
  });

  it('rides out 503, 429, timeouts and refused connections, delivering every point once or as an identical resend', async function () {
    this.timeout(15_000);
    const box = await makeOutbox();
    const statuses: WriteQueueStatus[] = [];
    const q = makeQueue({ outbox: box, send: connectorSender(() => server.url, 150), onStatus: (s) => statuses.push(s) });
    server.script = [{ status: 503 }, { status: 429 }, 'hang', { status: 500 }];
    const expected = new Set<string>();
    let ts = 1;
    const burst = async (k: number): Promise<void> => {
      for (let i = 0; i < k; i++) {
        const t = ts++;
        expected.add(`m|{"host":"h1"}|${t}`);
        await q.enqueue(point('m', t));
      }
    };
    await burst(50);
    await until(() => statuses.some((s) => s.state === 'buffering' && s.buffered > 0), 'buffering status');
    await burst(50);
    // Link down: the server goes away entirely, comes back on the same port later.
    await until(() => server.requests.length >= 4, 'scripted failures consumed');
    const port = Number(new URL(server.url).port);
    await server.stop();
    await burst(50);
    await sleep(150);
    await server.start(port);
    await burst(50);
    await until(
      () => box.stats().points === 0 && server.storedPoints().size === expected.size && statuses[statuses.length - 1]?.state === 'idle',
      'all points delivered',
      10_000,
    );

    const stored = server.storedPoints();
    assert.deepEqual(new Set(stored.keys()), expected);
    for (const [key, values] of stored) assert.equal(values.size, 1, `${key} stored with different values`);
    const buffering = statuses.find((s) => s.state === 'buffering');
    assert.match(buffering?.lastError ?? '', /HTTP (503|429|500)|no answer|cannot reach/);
  });

  it("honours the server's Retry-After", async () => {
    const q = makeQueue({ retry: { initialMs: 10, maxMs: 50 } });
    server.script = [{ status: 503, retryAfterS: 1 }];
    await q.enqueue(point('ra', 1));
    await until(() => server.requests.length === 2, 'the retry', 4000);
    const gap = server.requests[1].at - server.requests[0].at;
    assert.ok(gap >= 950, `retried after ${gap} ms despite Retry-After: 1`);
  });

  it('does not retry a 400: reports the server reason, removes the batch, then carries on', async () => {
    const box = await makeOutbox();
    const results: Array<WriteResult & { attempt: number }> = [];
    const q = makeQueue({ outbox: box, onResult: (r) => results.push(r) });
    const reason = 'java.io.EOFException: End of input at line 1 column 50 path $[0].datapoints[1]';
    server.script = [{ status: 400, errors: [reason] }];
    await q.enqueue(point('bad', 1));
    await q.flush();
    await sleep(100); // a retry would come within initialMs (20 ms)
    assert.equal(server.requests.length, 1);
    assert.deepEqual(results, [{ written: 0, rejected: 1, errors: [reason], requests: 1, attempt: 1 }]);
    assert.equal(box.stats().points, 0);

    await q.enqueue(point('good', 2));
    await q.flush();
    assert.equal(server.storedPoints().size, 1);
  });

  // KairosDB 1.3.0 answers a refused push with 400; a message naming metric[i] means it stored the rest
  // (FINDINGS: partial pushes are not atomic), one naming no index (malformed JSON, a proxy) stored nothing.
  for (const kind of ['names no metric index', 'names metric[i]'] as const) {
    it(`narrows a 400 that ${kind} through KairosConnector down to the one refused message and delivers the rest`, async () => {
      const box = await makeOutbox();
      const results: Array<WriteResult & { attempt: number }> = [];
      // flush() drives delivery; the long window keeps a slow machine from splitting requests by time.
      const q = makeQueue({ outbox: box, maxDelayMs: 60_000, onResult: (r) => results.push(r) });
      server.replyFor = (metrics) => {
        const i = metrics.findIndex((m) => m.name === 'bad');
        if (i < 0) return undefined;
        const errors = kind === 'names metric[i]' ? [`metric[${i}](name=bad).tag[host].value may not be empty.`] : ['Use JsonReader.setLenient(true) to accept malformed JSON at line 1 column 1 path $'];
        return { status: 400, errors };
      };
      for (let i = 1; i <= 32; i++) await q.enqueue(i === 11 ? point('bad', i) : point('good', i));
      await q.flush();
      const stored = server.storedPoints();
      assert.equal(stored.size, 31, [...stored.keys()].join());
      assert.ok(!stored.has('bad|{"host":"h1"}|11'));
      const refused = results.filter((r) => r.rejected > 0);
      assert.equal(refused.length, 1, JSON.stringify(results));
      assert.equal(refused[0].rejected, 1);
      assert.equal(refused[0].written, 0);
      assert.equal(results.reduce((n, r) => n + r.written, 0), 31);
      assert.ok(server.requests.length <= 16, `${server.requests.length} requests to isolate one bad message out of 32`);
      assert.equal(box.stats().points, 0);
      // Back to full-size requests afterwards.
      const before = server.requests.length;
      for (let i = 100; i < 140; i++) await q.enqueue(point('good', i));
      await q.flush();
      assert.equal(server.requests.length, before + 1);
    });
  }

  it('narrows randomly placed bad messages (fixed seeds): exactly the refused ones are dropped', async () => {
    for (const seed of [1, 7, 42]) {
      let x = seed;
      const rand = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const s = new PushServer();
      await s.start();
      try {
        const box = await makeOutbox();
        const results: Array<WriteResult & { attempt: number }> = [];
        const q = new WriteQueue({ outbox: box, send: connectorSender(() => s.url), maxDelayMs: 60_000, retry: fastRetry, onResult: (r) => results.push(r) });
        queues.push(q);
        s.replyFor = (metrics) => {
          const named = metrics.flatMap((m, i) => (m.name === 'bad' ? [i] : []));
          if (!named.length) return undefined;
          return { status: 400, errors: rand() < 0.5 ? named.map((i) => `metric[${i}](name=bad).value may not be null.`) : ['Invalid json. No content due to end of input.'] };
        };
        const n = 20 + Math.floor(rand() * 40);
        const bad = new Set<number>();
        for (let i = 1; i <= n; i++) {
          const isBad = rand() < 0.1;
          if (isBad) bad.add(i);
          await q.enqueue(point(isBad ? 'bad' : 'good', i));
        }
        await q.flush();
        const stored = s.storedPoints();
        assert.equal(stored.size, n - bad.size, `seed ${seed}: ${n} messages, ${bad.size} bad`);
        assert.equal(results.reduce((k, r) => k + r.rejected, 0), bad.size, `seed ${seed}`);
        assert.equal(box.stats().points, 0);
      } finally {
        await s.stop();
      }
    }
  });

  it('reports a partial result (some points rejected) without retrying', async () => {
    let calls = 0;
    const results: Array<WriteResult & { attempt: number }> = [];
    const q = makeQueue({
      send: async (metrics) => {
        calls++;
        return { written: metrics.length - 1, rejected: 1, errors: ['metric[1](name=y).datapoints[0].value may not be empty.'], requests: 1 };
      },
      onResult: (r) => results.push(r),
    });
    await q.enqueue([...point('x', 1), ...point('y', 1)]);
    await q.flush();
    await sleep(80);
    assert.equal(calls, 1);
    assert.deepEqual(results, [{ written: 1, rejected: 1, errors: ['metric[1](name=y).datapoints[0].value may not be empty.'], requests: 1, attempt: 1 }]);
  });

  it('keeps retrying slowly on EAUTH with an error status, and delivers once the credentials work', async () => {
    let authOk = false;
    const send = connectorSender(() => server.url);
    const statuses: WriteQueueStatus[] = [];
    let calls = 0;
    const q = makeQueue({
      retry: { initialMs: 5, maxMs: 60 },
      onStatus: (s) => statuses.push(s),
      send: async (metrics, signal) => {
        calls++;
        if (!authOk) throw new AuthenticationError('HTTP 401: token rejected', 401);
        return send(metrics, signal);
      },
    });
    await q.enqueue(point('auth', 1));
    await until(() => calls >= 2, 'a second attempt');
    const err = statuses.find((s) => s.state === 'error');
    assert.deepEqual(err, { state: 'error', buffered: 1, lastError: 'HTTP 401: token rejected' });
    // Slow lane: at least maxMs/2 between attempts, not the 5 ms initial delay.
    await sleep(100);
    assert.ok(calls <= 5, `${calls} attempts in ~150 ms`);
    authOk = true;
    await until(() => server.storedPoints().size === 1, 'delivery after the fix');
  });

  it('close() aborts a hanging request within the timeout; the batch stays in the outbox and goes out after restart', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'wq-test-'));
    dirs.push(dir);
    let box = await Outbox.open({ dir });
    server.script = ['hang'];
    const q = new WriteQueue({ outbox: box, send: connectorSender(() => server.url, 30_000), maxDelayMs: 10, retry: fastRetry });
    await q.enqueue(point('kept', 1));
    await until(() => server.requests.length === 1, 'the hanging request');
    // The request would give up after 30 s, beyond the test's timeout: close() returning at all shows it did not wait.
    await q.close(300);
    await until(() => server.abortedHung === 1, 'the request aborted');
    await assert.rejects(q.enqueue(point('late', 2)), { code: 'EOUTBOXCLOSED' });
    assert.equal(box.stats().points, 1);
    await box.close();

    // "Restart": a new outbox and queue on the same directory deliver the backlog without any enqueue.
    box = await makeOutbox(dir);
    makeQueue({ outbox: box, maxDelayMs: 10 });
    await until(() => server.storedPoints().size === 1 && box.stats().points === 0, 'backlog delivered after restart');
  });

  it('close() returns in time even if the send function ignores the abort signal, and leaves no timer behind', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      let sends = 0;
      const q = makeQueue({
        send: () => {
          sends++;
          return new Promise<WriteResult>(() => undefined);
        },
        maxDelayMs: 0,
      });
      await q.enqueue(point('stuck', 1));
      await clock.tickAsync(1);
      assert.equal(sends, 1, 'the send is in flight (its watchdog armed)');
      let closed = false;
      const closing = q.close(200).then(() => (closed = true));
      await clock.tickAsync(99);
      assert.equal(closed, false, 'close() first spends half its time on the memory backlog');
      await clock.tickAsync(1);
      // No more time passes from here: close() must settle on promise turns alone.
      for (let turn = 0; turn < 20 && !closed; turn++) await clock.tickAsync(0);
      assert.equal(closed, true, 'close() returned at its deadline although the send never settles');
      await closing;
      assert.equal(clock.countTimers(), 0, 'no send watchdog, window or retry timer outlives close()');
    } finally {
      clock.restore();
    }
  });

  it('a send that never settles is cut off by sendTimeoutMs and retried', async () => {
    let calls = 0;
    const send = connectorSender(() => server.url);
    const q = makeQueue({
      sendTimeoutMs: 50,
      send: (metrics, signal) => {
        calls++;
        return calls === 1 ? new Promise<WriteResult>(() => undefined) : send(metrics, signal);
      },
    });
    await q.enqueue(point('wd', 1));
    await until(() => server.storedPoints().size === 1, 'delivery after the watchdog');
    assert.equal(calls, 2);
  });

  it('without an outbox: delivers its memory backlog on close when the link works, warns about what is lost when not', async () => {
    const q = makeQueue({ maxDelayMs: 60_000 });
    await q.enqueue(point('mem', 1));
    await q.close(1000);
    assert.equal(server.storedPoints().size, 1);

    const warns: string[] = [];
    server.script = [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }];
    const q2 = makeQueue({ maxDelayMs: 0, logger: { warn: (m) => warns.push(m) } });
    await q2.enqueue(point('mem', 2));
    await until(() => server.requests.length >= 2, 'failures');
    await q2.close(200);
    assert.match(warns.join('\n'), /closed with 1 undelivered points in memory; they are lost/);
  });

  it('flush() rejects with the error when sending fails, keeping the data for the retry', async () => {
    const q = makeQueue({ retry: { initialMs: 30, maxMs: 30 } });
    server.script = [{ status: 503 }];
    await q.enqueue(point('f', 1));
    await assert.rejects(q.flush(), { code: 'EHTTP', status: 503 });
    await until(() => server.storedPoints().size === 1, 'retry delivery');
  });

  it('rejects bad input naming the field and value', async () => {
    const q = makeQueue();
    await assert.rejects(q.enqueue({} as unknown as KairosPushMetric[]), { code: 'EVALIDATION', message: /^metrics: must be an array.*got object/ });
    assert.throws(() => new WriteQueue({ send: connectorSender(() => server.url), maxBatchPoints: 0 }), { code: 'EVALIDATION', message: /^maxBatchPoints: .*got 0/ });
    assert.throws(() => new WriteQueue({ send: connectorSender(() => server.url), retry: { factor: 0.5 } }), { code: 'EVALIDATION', message: /^retry\.factor: .*got 0\.5/ });
    assert.throws(() => new WriteQueue({ send: 'x' as unknown as WriteQueueOptions['send'] }), { code: 'EVALIDATION', message: /^send: / });
  });
});

describe('WriteQueue with KairosConnector.push', () => {
  it('delivers through the real connector, retrying its retryable 503 and reporting its partial 400', async () => {
    const server = new PushServer();
    await server.start();
    const connector = new KairosConnector({ baseUrl: new URL(server.url).origin, timeoutMs: 2000 });
    const results: Array<WriteResult & { attempt: number }> = [];
    const q = new WriteQueue({ send: (metrics) => connector.push(metrics), maxDelayMs: 10, retry: fastRetry, onResult: (r) => results.push(r) });
    try {
      server.script = [{ status: 503, errors: ['datastore busy'] }];
      await q.enqueue(point('conn', 1));
      await q.enqueue(point('conn', 2));
      await until(() => results.length === 1, 'delivery after the 503');
      assert.equal(server.requests.length, 2);
      assert.deepEqual([...server.storedPoints().keys()], ['conn|{"host":"h1"}|1', 'conn|{"host":"h1"}|2']);
      assert.equal(results[0].written, 2);
      assert.equal(results[0].attempt, 2);

      // KairosDB stores the valid metric of a 400 and names the bad one: reported, not retried.
      server.script = [{ status: 400, errors: ['metric[1](name=other).tags count must be greater than or equal to 1.'] }];
      await q.enqueue([...point('conn', 3), ...point('other', 3)]);
      await q.flush();
      await sleep(60);
      assert.equal(server.requests.length, 3);
      assert.equal(results[1].rejected, 1);
      assert.equal(results[1].written, 1);
      assert.match(results[1].errors.join(), /tags count/);
    } finally {
      await q.close(500);
      await connector.close();
      await server.stop();
    }
  });
});
