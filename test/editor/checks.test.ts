/** The editor's field checks (editor/checks.ts), in Node: what each dialog accepts before a deploy. */
import assert from 'node:assert/strict';
import * as c from '../../editor/checks';
import { seededRandom } from '../helpers/random';
import { parseDurationMs, tryRelative } from '../../src/time/time-spec';
import { TIME_UNITS, UNIT_MS, UNIT_SPELLINGS, timeUnitOf } from '../../src/time/unit-table';
import { MAX_HORIZON_MS } from '../../src/stream/poller';

/** The runtime's reading of a duration: its milliseconds, or NaN where parseDurationMs throws. */
function runtimeMs(v: unknown): number {
  try {
    return parseDurationMs(v, 'd');
  } catch {
    return NaN;
  }
}

function table(check: (v: unknown) => boolean, good: unknown[], bad: unknown[]): void {
  for (const v of good) assert.equal(check(v), true, `${check.name} accepts ${JSON.stringify(v)}`);
  for (const v of bad) assert.equal(check(v), false, `${check.name} rejects ${JSON.stringify(v)}`);
}

describe('editor checks', function () {
  it('isEnv: only a whole-field ${VAR}', function () {
    table(c.isEnv, ['${A}', '${TOKEN_1}'], ['', undefined, null, '${A}x', 'x${A}', '${A B}', '$A']);
  });

  it('tagsOk: a JSON object or key=value pairs split by , ; or newline', function () {
    table(c.tagsOk, ['', undefined, '${TAGS}', 'a=b', 'a=b, c=d;e=f\ng=h', '{"a":"b"}', ' a = b ', 'a=b,,'], ['a', 'a=b=c', '[1]', '{bad', 'null', '=b']);
  });

  it('isCount: whole numbers from 1, blanks around allowed', function () {
    table(c.isCount, [1, '1', ' 12 ', '5000'], [0, '0', '-1', '2.5', '', 'x', '1e3', undefined]);
  });

  it('splitNames: comma or newline lists, blanks dropped', function () {
    assert.deepEqual(c.splitNames(' a, b\n\nc ,'), ['a', 'b', 'c']);
    assert.deepEqual(c.splitNames(undefined), []);
  });

  it('timeTextOk: relative, now, epoch ms, ISO-8601 (real dates only)', function () {
    table(
      c.timeTextOk,
      ['1h', '30 minutes', '2 days ago', '1.5h', 'now', ' NOW ', '1700000000000', '2024-01-31', '2024-01-31T10:00', '2024-01-31 10:00:00.5Z', '2024-01-31T10:00:00+01:00', '3M', '1y'],
      ['', 'yesterday', '1 fortnight', '2024-13-01', '2024-01-31T25:00', 'h1', '-1h', undefined],
    );
  });

  it('spanOk, windowOk, horizonOk, intervalOk: the paging span, stream window, late-data horizon and poll interval', function () {
    // Empty is the node's default (1 day, 10 minutes); months and years are durations like any other.
    table(c.spanOk, ['1d', '6 hours', '2w', '', undefined, '1', '1M', '2 months', '1y', '${P}'], ['x', ' ', '0', '0d', '1 fortnight', '-1h']);
    table(c.windowOk, ['10m', '1.5 h', '60000', '${W}', '', '1M', '1y', '3 mo', '0.5ms'], ['x', ' ', '0', '0.4ms', '1 fortnight']);
    table(c.horizonOk, ['', '0', ' 00 ', '0.0', '1h', '7d', '1w', '168 hours', '3600000', '${H}'], ['x', '8d', '1M', '1y', '-1h', '1 fortnight']);
    table(c.intervalOk, [100, '100', '2147483647', '250.5', '${I}'], [99, '2147483648', '', 'x', '-100']);
    assert.equal(c.windowMs(''), 600_000);
    assert.equal(c.windowMs('1.0004s'), 1000);
    assert.equal(c.horizonMs(''), 3_600_000);
    assert.equal(c.horizonMs('0'), 0);
    assert.ok(Number.isNaN(c.horizonMs('8d')));
    assert.equal(c.MAX_HORIZON_MS, MAX_HORIZON_MS, "the stream's own limit");
  });

  it('durations: every spelling of the unit table reads as the runtime reads it, months and years included', function () {
    // Each spelling as listed, lowercased, uppercased and capitalised: the runtime's answer is the reference.
    const forms = new Set<string>();
    for (const w of UNIT_SPELLINGS) for (const f of [w, w.toLowerCase(), w.toUpperCase(), w.charAt(0).toUpperCase() + w.slice(1)]) forms.add(f);
    for (const unit of forms) {
      const expected = 2 * UNIT_MS[timeUnitOf(unit) ?? 'milliseconds'];
      for (const text of [`2${unit}`, ` 2 ${unit} `, `2 ${unit} ago`]) {
        assert.equal(c.durationMs(text), runtimeMs(text), text);
        assert.equal(c.durationMs(text), expected, text);
        assert.equal(c.spanOk(text), true, text);
        assert.equal(c.timeTextOk(text), true, text);
      }
    }
    for (const unit of TIME_UNITS) assert.equal(c.durationMs(`1 ${unit}`), UNIT_MS[unit], unit);
    // 'M' is months and 'm' minutes, in the editor as at runtime.
    assert.equal(c.durationMs('1M'), 30 * 86_400_000);
    assert.equal(c.durationMs('1m'), 60_000);
  });

  it('durations: the editor agrees with the runtime on random texts (seeded)', function () {
    const rnd = seededRandom(1515);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const units = [...UNIT_SPELLINGS, ...UNIT_SPELLINGS.map((u) => u.toUpperCase()), 'Mo', 'MIN', 'Hrs', 'fortnight', 'mss', 'x', 'M1', 'minutess', 'ago', 'mS', 'Y', 'W', ''];
    const numbers = ['0', '1', '2.5', '10', '007', '1.', '.5', '-1', '1e3', '3.0', '0.0004', '12345678', ' '];
    const blanks = ['', ' ', '  ', '\t'];
    const tails = ['', ' ago', 'ago', '  ago ', ' AGO', ' later'];
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const text = pick(blanks) + pick(numbers) + pick(blanks) + pick(units) + (rnd() < 0.3 ? pick(tails) : '') + pick(blanks);
      const want = runtimeMs(text);
      assert.equal(c.durationMs(text), want, JSON.stringify(text));
      assert.equal(c.spanOk(text), text === '' || want > 0, JSON.stringify(text));
      assert.equal(c.windowOk(text), text === '' || Math.round(want) >= 1, JSON.stringify(text));
      // Start/end: the relative part of timeTextOk is the runtime's tryRelative.
      const relative = tryRelative(text, 'start') !== undefined;
      if (relative) assert.equal(c.timeTextOk(text), true, JSON.stringify(text));
      if (want > 0) accepted++;
    }
    // Both answers occur often enough for the comparison to mean something.
    assert.ok(accepted > 500 && accepted < 4500, `accepted ${accepted} of 5000`);
  });

  it('groupByOk: a JSON array or tag names', function () {
    table(c.groupByOk, ['', '${G}', 'site, line', 'a.b-c_d', '[{"name":"tag","tags":["a"]}]'], ['[bad', '{"a":1}', 'site=a', 'a|b']);
  });

  it('urlsOk and proxyUrlOk: http(s) URLs only', function () {
    table(c.urlsOk, ['http://a:8080', 'https://a, http://b', ' http://a  http://b ', '${URLS}'], ['', 'ftp://a', 'a:8080', 'http://a, b']);
    table(c.proxyUrlOk, ['http://proxy:3128', '${P}'], ['', 'proxy:3128', 'http:// x']);
  });

  it('timeZoneOk: IANA names the runtime knows', function () {
    table(c.timeZoneOk, ['', 'UTC', 'Europe/Berlin', ' America/New_York ', '${TZ}'], ['Mars/Olympus', 'CEST+1']);
  });

  it('numbers: timeout, optional positive, delay, outbox size, filled', function () {
    table(c.timeoutOk, ['', '30', 2147483, '0.5', '${T}'], ['0', '-1', '2147484', 'x']);
    table(c.optionalPositiveOk, ['', undefined, '1', '0.5'], ['0', '-1', 'x']);
    table(c.delayOk, ['0', 0, '1.5'], ['', ' ', '-1', 'x']);
    table(c.outboxMaxMBOk, ['1', 100, '0.5'], ['0', '', 'x', -1]);
    table(c.filled, ['Timestamp', ' x '], ['', '  ', undefined]);
  });

  it('never throws and always answers a boolean, whatever the value (seeded)', function () {
    const rnd = seededRandom(15);
    const alphabet = ['a', '=', ',', ';', '\n', '{', '}', '[', ']', '"', ' ', '1', '.', '$', 'h', ':', '-', 'T', 'Z', '/'];
    const values: unknown[] = [null, undefined, 0, -1, NaN, {}, [], true];
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(rnd() * 12);
      values.push(Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''));
    }
    const fns = Object.values(c as Record<string, unknown>).filter((f): f is (v: unknown) => unknown => typeof f === 'function' && f !== c.splitNames);
    // durationMs, windowMs, horizonMs answer a number (NaN for "no"); every other check a boolean.
    for (const check of fns) {
      const kind = /Ms$/.test(check.name) ? 'number' : 'boolean';
      for (const v of values) assert.equal(typeof check(v), kind, `${check.name}(${JSON.stringify(v)})`);
    }
  });
});
