/** The editor's field checks (editor/checks.ts), in Node: what each dialog accepts before a deploy. */
import assert from 'node:assert/strict';
import * as c from '../../editor/checks';
import { seededRandom } from '../helpers/random';

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

  it('spanOk, windowOk, intervalOk: the paging span, stream window and poll interval', function () {
    table(c.spanOk, ['1d', '6 hours', '2w'], ['', 'x', '1']);
    table(c.windowOk, ['10m', '1.5 h', '60000', '${W}'], ['', '1M', '1y', '10m ago', 'x']);
    table(c.intervalOk, [100, '100', '2147483647', '250.5', '${I}'], [99, '2147483648', '', 'x', '-100']);
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
    const all = Object.values(c).filter((f): f is (v: unknown) => boolean => typeof f === 'function' && f !== c.splitNames);
    for (const check of all) {
      for (const v of values) assert.equal(typeof check(v), 'boolean', `${check.name}(${JSON.stringify(v)})`);
    }
  });
});
