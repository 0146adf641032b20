import assert from 'node:assert/strict';
import { PollLoop } from '../../src/stream';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `cond` holds, polling every 2 ms, failing after `ms` (generous: a busy machine is no failure). */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(2);
  }
}

describe('PollLoop', () => {
  const loops: PollLoop[] = [];
  afterEach(async () => {
    await Promise.all(loops.splice(0).map((l) => l.stop()));
  });
  function make(opts: ConstructorParameters<typeof PollLoop>[0]): PollLoop {
    const loop = new PollLoop(opts);
    loops.push(loop);
    return loop;
  }

  it('never runs two polls at once, even when a run outlasts the interval', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const loop = make({
      intervalMs: 1,
      onError: (e) => assert.fail(String(e)),
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(8);
        active--;
        runs++;
      },
    });
    loop.start();
    loop.start(); // a second start is a no-op, not a second loop
    await until(() => runs >= 5);
    await loop.stop();
    assert.equal(maxActive, 1);
  });

  it('backs off exponentially on errors, capped, and resets after a success', async () => {
    const delays: number[] = [];
    let calls = 0;
    const errors: unknown[] = [];
    // Fake timers: record delays and fire on the next tick so the test is fast and exact.
    const loop = make({
      intervalMs: 10,
      maxBackoffMs: 50,
      onError: (e) => errors.push(e),
      run: async () => {
        calls++;
        if (calls <= 5) throw new Error(`fail ${calls}`);
      },
      setTimer: (fn, ms) => {
        delays.push(ms);
        return setImmediate(fn);
      },
      clearTimer: (h) => clearImmediate(h as NodeJS.Immediate),
    });
    loop.start();
    await until(() => delays.length >= 8);
    await loop.stop();
    // first run immediately, then 20, 40, 50 (cap), 50, 50 after five failures, then back to 10
    assert.deepEqual(delays.slice(0, 8), [0, 20, 40, 50, 50, 50, 10, 10]);
    assert.equal(errors.length, 5);
    assert.equal(loop.consecutiveFailures, 0);
  });

  it('stop() aborts the run in flight and waits for it to settle', async () => {
    let aborted = false;
    let settled = false;
    let started = false;
    const errors: unknown[] = [];
    const loop = make({
      intervalMs: 5,
      onError: (e) => errors.push(e),
      run: (signal) =>
        new Promise<void>((resolve, reject) => {
          started = true;
          signal.addEventListener('abort', () => {
            aborted = true;
            setTimeout(() => {
              settled = true;
              reject(new Error('aborted'));
            }, 10);
          });
          void resolve;
        }),
    });
    loop.start();
    await until(() => started);
    await loop.stop();
    assert.ok(aborted, 'signal aborted');
    assert.ok(settled, 'stop waited for the run');
    assert.equal(loop.isRunning, false);
    assert.deepEqual(errors, [], 'the abort caused by stop is not reported as an error');
  });

  it('stop() is bounded when a run ignores the abort, and a restart waits for that run', async () => {
    let runs = 0;
    let active = 0;
    let maxActive = 0;
    // The first run ignores the abort and lasts until the test releases it, however slow the machine is.
    let release: () => void = () => undefined;
    const stubborn = new Promise<void>((resolve) => (release = resolve));
    const loop = make({
      intervalMs: 5,
      stopTimeoutMs: 30,
      onError: () => undefined,
      run: async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        await (runs === 1 ? stubborn : sleep(5));
        active--;
      },
    });
    loop.start();
    await until(() => runs === 1);
    await loop.stop();
    assert.equal(active, 1, 'stop returned (after stopTimeoutMs) while the stubborn run was still going');
    loop.start();
    await sleep(50);
    assert.equal(runs, 1, 'the restarted loop waits for the old run');
    release();
    await until(() => runs === 2);
    assert.equal(maxActive, 1, 'the restarted loop did not overlap the old run');
  });

  it('does not run again after stop', async () => {
    let runs = 0;
    const loop = make({ intervalMs: 5, onError: () => undefined, run: async () => void runs++ });
    loop.start();
    await until(() => runs >= 2);
    await loop.stop();
    const after = runs;
    await sleep(30);
    assert.equal(runs, after);
  });

  it('changeInterval reschedules a pending wait and validates its input', async () => {
    const stamps: number[] = [];
    const loop = make({ intervalMs: 10_000, onError: () => undefined, run: async () => void stamps.push(Date.now()) });
    loop.start();
    await until(() => stamps.length === 1);
    loop.changeInterval(5);
    await until(() => stamps.length >= 3, 1000);
    assert.equal(loop.intervalMs, 5);
    assert.throws(() => loop.changeInterval(0), /intervalMs.*\b0\b/);
    assert.throws(() => loop.changeInterval(Number.NaN), /intervalMs.*NaN/);
    assert.equal(loop.intervalMs, 5);
  });

  it('survives a throwing onError and a synchronously throwing run', async () => {
    let calls = 0;
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown): void => void unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      const loop = make({
        intervalMs: 1,
        maxBackoffMs: 2,
        onError: () => {
          throw new Error('handler broke');
        },
        run: () => {
          calls++;
          throw new Error('sync');
        },
      });
      loop.start();
      await until(() => calls >= 3);
      await loop.stop();
      await sleep(5);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('can be restarted after stop', async () => {
    let runs = 0;
    const loop = make({ intervalMs: 2, onError: () => undefined, run: async () => void runs++ });
    loop.start();
    await until(() => runs >= 1);
    await loop.stop();
    const before = runs;
    loop.start();
    assert.equal(loop.isRunning, true);
    await until(() => runs >= before + 2);
  });

  it('rejects bad options naming field and value', () => {
    assert.throws(() => new PollLoop({ intervalMs: -1, run: async () => undefined, onError: () => undefined }), /intervalMs.*-1/);
    assert.throws(
      () => new PollLoop({ intervalMs: 10, run: async () => undefined, onError: () => undefined, maxBackoffMs: 0 }),
      /maxBackoffMs.*\b0\b/,
    );
    assert.throws(() => new PollLoop({ intervalMs: 10, run: 5 as unknown as () => Promise<void>, onError: () => undefined }), /run.*5/);
  });
});
