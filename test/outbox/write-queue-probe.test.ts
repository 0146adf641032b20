/**
 * Recovery detection: while data waits out a long retry backoff after the link failed, a light probe
 * on a short cycle notices the link returning and delivery resumes at once; Retry-After and 429 still
 * win, and the probe never turns into a stream of pushes. Timers are sinon's fake ones, so no bound
 * here depends on how fast the machine is.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { HttpStatusError, NetworkError, TimeoutError } from '../../src/errors';
import { WriteQueue, type WriteQueueOptions } from '../../src/outbox/write-queue';
import type { KairosPushMetric, WriteResult } from '../../src/types';

const HOUR = 3_600_000;
const point = (ts: number): KairosPushMetric[] => [{ name: 'p', tags: { host: 'h' }, type: 'long', datapoints: [[ts, 1]] }];

describe('WriteQueue recovery probe (fake timers)', () => {
  let clock: sinon.SinonFakeTimers;
  let linkUp: boolean;
  let failWith: () => Error;
  const pushes: number[] = [];
  const probes: number[] = [];
  const queues: WriteQueue[] = [];

  const send = async (metrics: KairosPushMetric[]): Promise<WriteResult> => {
    pushes.push(Date.now());
    if (!linkUp) throw failWith();
    return { written: metrics.reduce((n, m) => n + (m.datapoints?.length ?? 0), 0), rejected: 0, errors: [], requests: 1 };
  };
  const probe = async (): Promise<boolean> => {
    probes.push(Date.now());
    return linkUp;
  };
  const make = (opts: Partial<WriteQueueOptions> = {}): WriteQueue => {
    // random 1: the backoff is exactly its nominal value, here a whole hour after the first failure.
    const q = new WriteQueue({ send, probe, maxDelayMs: 0, retry: { initialMs: HOUR, maxMs: HOUR }, random: () => 1, ...opts });
    queues.push(q);
    return q;
  };

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
    linkUp = false;
    failWith = () => new NetworkError('Cannot reach 127.0.0.1:1: connect ECONNREFUSED');
    pushes.length = 0;
    probes.length = 0;
  });
  afterEach(async () => {
    for (const q of queues.splice(0)) {
      const closing = q.close(100);
      await clock.tickAsync(200);
      await closing;
    }
    clock.restore();
  });

  for (const [what, err] of [
    ['refused', () => new NetworkError('Cannot reach 127.0.0.1:1: connect ECONNREFUSED')],
    ['timed out', () => new TimeoutError('No complete answer within 5000 ms')],
    ['502 from a gateway', () => new HttpStatusError(502, 'http://x/api/v1/datapoints', [])],
  ] as const) {
    it(`link ${what} for 10 min with an hour of backoff: delivery resumes within 5 s of the link returning`, async () => {
      failWith = err;
      const delivered: number[] = [];
      make({ onResult: () => delivered.push(Date.now()) });
      await queues[0].enqueue(point(1));
      await clock.tickAsync(10 * 60_000);
      assert.equal(pushes.length, 1, 'no pushes while the link is down: probes only');
      assert.ok(probes.length >= 10, `${probes.length} probes in 10 min`);
      // Light, not hammering: at most one probe a second.
      assert.ok(probes.length <= 600, `${probes.length} probes in 10 min`);
      linkUp = true;
      const back = Date.now();
      await clock.tickAsync(5000);
      assert.equal(delivered.length, 1, 'delivered within 5 s of the link returning');
      assert.ok(delivered[0] - back <= 5000);
      const probesThen = probes.length;
      await clock.tickAsync(60_000);
      assert.equal(probes.length, probesThen, 'no probes once nothing waits');
    });
  }

  it("Retry-After still wins: no probe and no push before the server's time", async () => {
    failWith = () => Object.assign(new HttpStatusError(503, 'http://x/api/v1/datapoints', ['busy']), { retryAfterMs: 120_000 });
    const q = make({ retry: { initialMs: 1000, maxMs: 1000 } });
    await q.enqueue(point(1));
    await clock.tickAsync(10);
    linkUp = true;
    await clock.tickAsync(119_000);
    assert.equal(pushes.length, 1);
    assert.equal(probes.length, 0);
    await clock.tickAsync(1_500);
    assert.equal(pushes.length, 2);
  });

  it('429 and 503 without Retry-After (the server answers) are left to the backoff: no probes', async () => {
    for (const status of [429, 503]) {
      failWith = () => new HttpStatusError(status, 'http://x/api/v1/datapoints', []);
      const q = make({ retry: { initialMs: 60_000, maxMs: 60_000 } });
      await q.enqueue(point(status));
      await clock.tickAsync(59_000);
      assert.equal(probes.length, 0, `probes after HTTP ${status}`);
      assert.equal(pushes.length, 1);
      pushes.length = 0;
      const closing = q.close(100);
      await clock.tickAsync(200);
      await closing;
      queues.splice(0);
    }
  });

  it('a probe that says "up" while pushes still fail gives one early push per backoff wait, not a push per probe', async () => {
    const q = make({ probe: async () => (probes.push(Date.now()), true), retry: { initialMs: 60_000, maxMs: 60_000 } });
    await q.enqueue(point(1));
    await clock.tickAsync(10 * 60_000);
    // Per 60 s wait: the failing push, then at most one probe-triggered push.
    assert.ok(pushes.length <= 2 * 11, `${pushes.length} pushes in 10 min`);
    assert.ok(pushes.length >= 10);
  });

  it('a probe that hangs is cut off and probing goes on; close() stops it', async () => {
    let hung = 0;
    const q = make({
      probe: (signal) =>
        new Promise<boolean>((_, reject) => {
          hung++;
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        }),
    });
    await q.enqueue(point(1));
    await clock.tickAsync(60_000);
    assert.ok(hung >= 5, `${hung} probes started in 60 s`);
    const closing = q.close(100);
    await clock.tickAsync(200);
    await closing;
    queues.splice(0);
    const after = hung;
    await clock.tickAsync(60_000);
    assert.equal(hung, after, 'no probes after close');
  });
});
