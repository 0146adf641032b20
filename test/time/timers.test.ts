/**
 * Timer lengths: setTimeout fires at once for anything above 2^31-1 ms, so a timeout of 30 days (or a
 * Retry-After of a year) would mean "now". Every timeout/interval users set goes through one check.
 */
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/errors';
import { HttpClient } from '../../src/http/http-client';
import { parseRetryAfter } from '../../src/http/status-errors';
import { sntpQuery } from '../../src/time/sntp';
import { checkTimerMs, MAX_TIMER_MS } from '../../src/time/timer-limits';
import { createService } from '../../nodes/lib/connection';
import type { NodeAPI } from '../../nodes/lib/red';

const logger = { warn: () => undefined, debug: () => undefined, info: () => undefined, error: () => undefined };

describe('timer lengths: one check for every timeout and interval', () => {
  it('MAX_TIMER_MS is what setTimeout honours', () => {
    assert.equal(MAX_TIMER_MS, 2 ** 31 - 1);
  });

  it('checkTimerMs accepts 1 ms to 2^31-1 ms and names the field and value otherwise', () => {
    assert.equal(checkTimerMs(1, 'x'), 1);
    assert.equal(checkTimerMs(MAX_TIMER_MS, 'x'), MAX_TIMER_MS);
    assert.equal(checkTimerMs(250, 'x', { min: 100 }), 250);
    const bad: Array<[unknown, RegExp, { min?: number }?]> = [
      [MAX_TIMER_MS + 1, /at most 2147483647 ms \(about 24\.8 days\)/],
      [1e12, /at most 2147483647/],
      [Infinity, /Infinity/],
      [0, /greater than 0|at least/],
      [-5, /-5/],
      [NaN, /NaN/],
      ['10', /"10"/],
      [50, /at least 100/, { min: 100 }],
    ];
    for (const [v, re, opts] of bad) {
      assert.throws(
        () => checkTimerMs(v, 'someTimeout', opts),
        (e: unknown) => e instanceof ValidationError && e.field === 'someTimeout' && re.test(e.message),
        String(v),
      );
    }
  });

  it('HttpClient refuses a timeout above 2^31-1 ms, also per request', async () => {
    assert.throws(() => new HttpClient({ baseUrls: ['http://127.0.0.1:1'], timeoutMs: 2 ** 31 }), (e: unknown) => e instanceof ValidationError && e.field === 'timeoutMs');
    const c = new HttpClient({ baseUrls: ['http://127.0.0.1:1'] });
    try {
      await assert.rejects(c.request({ method: 'GET', path: '/', timeoutMs: 40 * 24 * 3600 * 1000 }), (e: unknown) => e instanceof ValidationError && e.field === 'request.timeoutMs');
    } finally {
      await c.close();
    }
  });

  it('the SNTP query refuses a timeout above 2^31-1 ms', async () => {
    await assert.rejects(sntpQuery({ server: '127.0.0.1', timeoutMs: 2 ** 32 }), (e: unknown) => e instanceof ValidationError && e.field === 'timeoutMs');
  });

  it('the config node refuses a timeout setting of more than 24.8 days, naming the field and value', async () => {
    const RED = { nodes: { getNode: () => null, getCredentials: () => undefined } } as unknown as NodeAPI;
    await assert.rejects(
      createService(RED, { service: 'kairosdb', urls: 'http://127.0.0.1:1', timeout: 2_200_000 }, {}, logger),
      (e: unknown) => e instanceof ValidationError && e.field === 'timeout' && e.message.includes('2200000'),
    );
    const ok = await createService(RED, { service: 'kairosdb', urls: 'http://127.0.0.1:1', timeout: 30 }, {}, logger);
    await ok.close();
  });

  it('a Retry-After longer than a timer can wait is capped, not turned into "now"', () => {
    assert.equal(parseRetryAfter('120'), 120_000);
    assert.equal(parseRetryAfter(String(365 * 24 * 3600)), MAX_TIMER_MS);
    assert.equal(parseRetryAfter(new Date(Date.now() + 400 * 24 * 3600 * 1000).toUTCString()), MAX_TIMER_MS);
  });
});
