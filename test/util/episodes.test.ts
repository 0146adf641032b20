import assert from 'node:assert/strict';
import sinon from 'sinon';
import { Episodes, formatRecovery, type EpisodeSummary } from '../../src/util/outage-episodes';

describe('Episodes (one warning per cause per outage, a summary at the end)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => clock.restore());

  it('a link failing every second request for 30 s is one episode: one warning, one summary', () => {
    const summaries: EpisodeSummary[] = [];
    const ep = new Episodes({ quietMs: 10_000, onRecovered: (s) => summaries.push(s) });
    let warnings = 0;
    for (let i = 0; i < 32; i++) {
      if (i % 2 === 1) ep.success();
      else if (ep.failure('HTTP 503 from http://x: busy')) warnings++;
      clock.tick(1000);
    }
    assert.equal(warnings, 1);
    assert.equal(summaries.length, 0);
    clock.tick(10_000);
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0].failures, 16);
    assert.deepEqual(summaries[0].causes, ['HTTP 503 from http://x: busy']);
    assert.equal(summaries[0].durationMs, 31_000);
    assert.equal(formatRecovery(summaries[0]), 'recovered after 16 failures in 31 s');
    assert.equal(ep.active, false);
  });

  it('warns once per distinct cause, and again in the next episode', () => {
    const summaries: EpisodeSummary[] = [];
    const ep = new Episodes({ quietMs: 5000, onRecovered: (s) => summaries.push(s) });
    assert.equal(ep.failure('refused'), true);
    assert.equal(ep.failure('refused'), false);
    assert.equal(ep.failure('timeout'), true);
    assert.equal(ep.failure('refused'), false);
    clock.tick(2500);
    ep.success();
    clock.tick(4999);
    assert.equal(summaries.length, 0);
    clock.tick(1);
    assert.deepEqual(summaries, [{ failures: 4, causes: ['refused', 'timeout'], durationMs: 2500 }]);
    assert.equal(formatRecovery(summaries[0]), 'recovered after 4 failures in 2.5 s');
    assert.equal(ep.failure('refused'), true, 'a new episode warns again');
  });

  it('successes outside an episode, close() and quietMs 0', () => {
    const summaries: EpisodeSummary[] = [];
    const ep = new Episodes({ quietMs: 1000, onRecovered: (s) => summaries.push(s) });
    ep.success();
    clock.tick(5000);
    assert.equal(summaries.length, 0);
    ep.failure('x');
    ep.success();
    ep.close();
    clock.tick(5000);
    assert.equal(summaries.length, 0, 'close() cancels the pending summary');
    const now = new Episodes({ quietMs: 0, onRecovered: (s) => summaries.push(s) });
    now.failure('y');
    now.success();
    assert.deepEqual(summaries, [{ failures: 1, causes: ['y'], durationMs: 0 }]);
    assert.equal(formatRecovery(summaries[0]), 'recovered after 1 failure in 0 s');
    assert.throws(() => new Episodes({ quietMs: -1 }), /quietMs/);
  });
});
