/**
 * A poll aborted by stop() (a redeploy) must leave the position where it was: the node sends nothing
 * for an aborted poll, so points the poll had already counted as emitted would never be sent. The
 * abort is injected at each await of a poll (the catch-up count, the fetch, the late check's count and
 * its re-fetch), with an injected clock; the next poll must then return every point once.
 */
import assert from 'node:assert/strict';
import { IncrementalPoller, type CountFetch, type SeriesFetch } from '../../src/stream';
import { EmitLog, SimDb } from '../helpers/stream-sim';

const HOUR = 3600_000;

describe('stream: an aborted poll leaves the position unchanged', () => {
  for (const abortAt of ['fetch', 'count', 'refetch'] as const) {
    it(`abort during the ${abortAt === 'count' ? "late check's count" : abortAt === 'refetch' ? "late check's re-fetch" : 'regular fetch (after it answered)'}: the next poll emits every point once`, async () => {
      const db = new SimDb();
      db.clock = 1_700_000_000_000;
      let controller = new AbortController();
      let armed = false;
      let fetches = 0;
      const abortNow = (): never => {
        armed = false;
        controller.abort();
        throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      };
      const fetch: SeriesFetch = async (range, signal) => {
        const out = await db.fetch(range);
        fetches++;
        // The regular fetch answered but the abort came before the poll finished (its last await).
        if (armed && abortAt === 'fetch') {
          armed = false;
          controller.abort();
          return out;
        }
        // The second fetch of a poll is the late check's re-fetch.
        if (armed && abortAt === 'refetch' && fetches % 2 === 0) abortNow();
        if (signal?.aborted) abortNow();
        return out;
      };
      const count: CountFetch = async (range, bucketMs, signal) => {
        if (armed && abortAt === 'count') abortNow();
        if (signal?.aborted) abortNow();
        return db.count(range, bucketMs);
      };
      const poller = new IncrementalPoller({ fetch, count, windowMs: 600_000, horizonMs: HOUR, checkEveryMs: 0, now: () => db.clock });
      const log = new EmitLog();
      const take = async (): Promise<void> => {
        const r = await poller.poll({ signal: controller.signal });
        log.addSeries(r.series);
        log.addSeries(r.late);
      };
      db.add('a', db.clock - 1000, 1, db.clock);
      db.add('b', db.clock - 1000, 2, db.clock);
      await take();
      // A point later than the overlap (found only by the late check) and on-time points.
      db.clock += 10_000;
      db.add('a', db.clock - 500, 3, db.clock);
      db.add('b', db.clock - 500, 4, db.clock);
      // Before the range of this poll (an overlap behind the oldest series): only the late check finds it.
      db.add('a', db.clock - 15_000, 5, db.clock);
      armed = true;
      fetches = 0;
      await assert.rejects(take(), /abort/i, 'the poll was aborted');
      controller = new AbortController();
      db.clock += 1000;
      await take();
      await take();
      assert.deepEqual(log.missing(db.all()), [], 'no point lost');
      assert.deepEqual(log.twice(), [], 'no point twice');
    });
  }
});
