import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { ValidationError } from '../../src/errors';
import {
  DEFAULT_FORMAT,
  MAX_TIMESTAMP_MS,
  datetimeToTimestampMs,
  formatTimestamp,
  isValidZone,
  relativeTimeToMs,
  subtractRelative,
  timestampMsToDatetime,
  toLuxonFormat,
  validateRelativeTime,
} from '../../src/time/timestamps';
import { normalizeTimeUnit } from '../../src/time/time-units';
import { TIME_UNITS, timeUnitOf } from '../../src/time/unit-table';
import { parseDurationMs, tryRelative } from '../../src/time/time-spec';
import type { RelativeTime, TimestampFormat, TimeInput } from '../../src/types';

const T = Date.UTC(2024, 0, 2, 3, 4, 5, 678); // 2024-01-02T03:04:05.678Z

function validation(fn: () => unknown, field: string, valuePart?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
    assert.equal(err.code, 'EVALIDATION');
    assert.equal(err.field, field);
    assert.ok(err.message.startsWith(field + ':'), err.message);
    if (valuePart !== undefined) assert.ok(err.message.includes(valuePart), `${err.message} lacks ${valuePart}`);
    assert.ok(!/NaN|Invalid DateTime/.test(err.message.replace(/\(got NaN\)/, '')), err.message);
    return true;
  });
}

describe('time: datetimeToTimestampMs', () => {
  it('takes epoch ms numbers, rounding fractions to the nearest ms', () => {
    assert.equal(datetimeToTimestampMs(T), T);
    assert.equal(datetimeToTimestampMs(T + 0.4), T);
    assert.equal(datetimeToTimestampMs(T + 0.6), T + 1);
    assert.equal(datetimeToTimestampMs(0), 0);
    assert.equal(datetimeToTimestampMs(-1000), -1000);
  });

  it('takes Date, luxon DateTime and numeric strings', () => {
    assert.equal(datetimeToTimestampMs(new Date(T)), T);
    assert.equal(datetimeToTimestampMs(DateTime.fromMillis(T, { zone: 'Asia/Tokyo' })), T);
    assert.equal(datetimeToTimestampMs(String(T)), T);
    assert.equal(datetimeToTimestampMs(' 1700000000000.6 '), 1700000000001);
  });

  it('reads ISO-8601 with an offset as given and without one in opts.zone (default UTC)', () => {
    assert.equal(datetimeToTimestampMs('2024-01-02T03:04:05.678Z'), T);
    assert.equal(datetimeToTimestampMs('2024-01-02T04:04:05.678+01:00'), T);
    assert.equal(datetimeToTimestampMs('2024-01-02T03:04:05.678'), T);
    assert.equal(datetimeToTimestampMs('2024-01-02T04:04:05.678', { zone: 'Europe/Berlin' }), T);
    assert.equal(datetimeToTimestampMs('2024-07-02T05:04:05.678', { zone: 'Europe/Berlin' }), Date.UTC(2024, 6, 2, 3, 4, 5, 678));
    assert.equal(datetimeToTimestampMs('2024-01-02'), Date.UTC(2024, 0, 2));
    assert.equal(datetimeToTimestampMs('2024-01-02T03:04:05Z'), T - 678);
  });

  it('reads the seed default format, with 6 fraction digits, and SQL-style strings', () => {
    assert.equal(DEFAULT_FORMAT, 'yyyy-MM-dd HH:mm:ss.SSSSSS');
    assert.equal(datetimeToTimestampMs('2024-01-02 03:04:05.678000'), T);
    assert.equal(datetimeToTimestampMs('2024-01-02 03:04:05.678999'), T); // microseconds truncate
    assert.equal(datetimeToTimestampMs('2024-01-02 03:04:05'), T - 678);
    assert.equal(datetimeToTimestampMs('2024-01-02 03:04:05.678000', { format: '%Y-%m-%d %H:%M:%S.%f' }), T);
  });

  it('reads strings in a custom luxon or strftime format, in the zone', () => {
    assert.equal(datetimeToTimestampMs('02.01.2024 04:04', { format: 'dd.MM.yyyy HH:mm', zone: 'Europe/Berlin' }), Date.UTC(2024, 0, 2, 3, 4));
    assert.equal(datetimeToTimestampMs('02/01/2024 03h04', { format: '%d/%m/%Y %Hh%M' }), Date.UTC(2024, 0, 2, 3, 4));
    assert.equal(datetimeToTimestampMs('2024-01-02 05:04:05 +0200', { format: '%Y-%m-%d %H:%M:%S %z' }), T - 678);
  });

  it('rejects bad input with a ValidationError naming the field and value', () => {
    validation(() => datetimeToTimestampMs(NaN), 'timestamp', 'NaN');
    validation(() => datetimeToTimestampMs(Infinity), 'timestamp');
    validation(() => datetimeToTimestampMs('yesterday-ish', { field: 'startAbsolute' }), 'startAbsolute', '"yesterday-ish"');
    validation(() => datetimeToTimestampMs(''), 'timestamp');
    validation(() => datetimeToTimestampMs('2024-13-45T00:00:00Z'), 'timestamp', '2024-13-45');
    validation(() => datetimeToTimestampMs(new Date('nope')), 'timestamp', 'Invalid Date');
    validation(() => datetimeToTimestampMs(DateTime.fromISO('garbage')), 'timestamp');
    validation(() => datetimeToTimestampMs(null as unknown as TimeInput), 'timestamp', 'null');
    validation(() => datetimeToTimestampMs({} as unknown as TimeInput), 'timestamp', 'object');
    validation(() => datetimeToTimestampMs(true as unknown as TimeInput), 'timestamp', 'boolean');
    validation(() => datetimeToTimestampMs('2024-01-02', { zone: 'Mars/Olympus' }), 'zone', 'Mars/Olympus');
    validation(() => datetimeToTimestampMs(MAX_TIMESTAMP_MS + 1), 'timestamp', 'out of range');
    validation(() => datetimeToTimestampMs(1e300), 'timestamp');
    validation(() => datetimeToTimestampMs('02.01.2024', { format: 'bad %Q' }), 'format', '%Q');
  });
});

describe('time: timestampMsToDatetime / formatTimestamp', () => {
  it('defaults to DEFAULT_FORMAT in UTC', () => {
    assert.equal(timestampMsToDatetime(T), '2024-01-02 03:04:05.678000');
  });

  it('formats iso, date, datetime and custom formats in a zone', () => {
    assert.equal(timestampMsToDatetime(T, { format: 'iso' }), '2024-01-02T03:04:05.678Z');
    assert.equal(timestampMsToDatetime(T, { format: 'iso', zone: 'Europe/Berlin' }), '2024-01-02T04:04:05.678+01:00');
    const d = timestampMsToDatetime(T, { format: 'date' });
    assert.ok(d instanceof Date && d.getTime() === T);
    const dt = timestampMsToDatetime(T, { format: 'datetime', zone: 'Asia/Tokyo' }) as DateTime;
    assert.ok(DateTime.isDateTime(dt));
    assert.equal(dt.toMillis(), T);
    assert.equal(dt.zoneName, 'Asia/Tokyo');
    assert.equal(timestampMsToDatetime(T, { format: '%d.%m.%Y %H:%M', zone: 'Europe/Berlin' }), '02.01.2024 04:04');
    assert.equal(timestampMsToDatetime(T, { format: 'yyyy/MM/dd' }), '2024/01/02');
  });

  it('round-trips through DEFAULT_FORMAT', () => {
    for (const ms of [0, T, -86_400_000 + 1, 253402300799999]) {
      assert.equal(datetimeToTimestampMs(timestampMsToDatetime(ms) as string), ms);
    }
  });

  it('rejects bad ms and zones', () => {
    validation(() => timestampMsToDatetime(NaN), 'timestamp');
    validation(() => timestampMsToDatetime('1' as unknown as number), 'timestamp');
    validation(() => timestampMsToDatetime(T, { zone: 'Nowhere/Land' }), 'zone');
  });

  it('formatTimestamp converts for tables', () => {
    assert.equal(formatTimestamp(T, 'ms'), T);
    assert.equal(formatTimestamp(T, 'iso'), '2024-01-02T03:04:05.678Z');
    assert.equal((formatTimestamp(T, 'date') as Date).getTime(), T);
    validation(() => formatTimestamp(T, 'unix' as TimestampFormat), 'convertTimestamp', 'unix');
  });

  it('translates strftime formats with quoted literals', () => {
    assert.equal(toLuxonFormat('%Y-%m-%dT%H:%M:%S'), "yyyy'-'MM'-'dd'T'HH':'mm':'ss");
    assert.equal(timestampMsToDatetime(T, { format: "%Y at %H o'clock" }), "2024 at 03 o'clock");
    assert.equal(toLuxonFormat('100%% at %H'), "'100% at 'HH");
    assert.equal(toLuxonFormat('dd.MM.yyyy'), 'dd.MM.yyyy');
    validation(() => toLuxonFormat('%Y%'), 'format');
  });
});

describe('time: relative times and zones', () => {
  it('lists the KairosDB units', () => {
    assert.deepEqual([...TIME_UNITS], ['milliseconds', 'seconds', 'minutes', 'hours', 'days', 'weeks', 'months', 'years']);
  });

  it('normalises units: any case, singular or plural', () => {
    assert.deepEqual(validateRelativeTime({ value: 5, unit: 'Minute' }, 'startRelative'), { value: 5, unit: 'minutes' });
    assert.deepEqual(validateRelativeTime({ value: 1, unit: 'HOURS' }, 'x'), { value: 1, unit: 'hours' });
    assert.deepEqual(validateRelativeTime('2 days', 'x'), { value: 2, unit: 'days' });
    assert.equal(normalizeTimeUnit('Millisecond'), 'milliseconds');
    validation(() => normalizeTimeUnit(''), 'unit');
  });

  it('one unit table: the library and the node fields accept the same spellings (short, any case, singular, plural)', () => {
    const spellings: Array<[string, string]> = [
      ['ms', 'milliseconds'], ['Millisecond', 'milliseconds'], ['MILLISECONDS', 'milliseconds'],
      ['s', 'seconds'], ['sec', 'seconds'], ['Second', 'seconds'],
      ['m', 'minutes'], ['min', 'minutes'], ['MINUTES', 'minutes'],
      ['h', 'hours'], ['H', 'hours'], ['hr', 'hours'], ['Hour', 'hours'],
      ['d', 'days'], ['Days', 'days'], ['w', 'weeks'], ['week', 'weeks'],
      ['M', 'months'], ['mo', 'months'], ['Month', 'months'], ['y', 'years'], ['YEARS', 'years'],
    ];
    for (const [word, unit] of spellings) {
      // The library's path (query options, aggregator units) ...
      assert.equal(normalizeTimeUnit(word), unit, word);
      assert.deepEqual(validateRelativeTime({ value: 2, unit: word }, 'r'), { value: 2, unit }, word);
      // ... and the nodes' editor/msg path ("2h", {value, unit}) give the same unit.
      assert.equal(timeUnitOf(word), unit, word);
      assert.deepEqual(tryRelative(`2${word}`, 'start'), { value: 2, unit }, word);
      assert.deepEqual(tryRelative({ value: 2, unit: word }, 'start'), { value: 2, unit }, word);
    }
    // 'M' and 'm' differ only by case: months and minutes.
    assert.equal(parseDurationMs('1M', 'd'), 30 * 86_400_000);
    assert.equal(parseDurationMs('1m', 'd'), 60_000);
    for (const bad of ['fortnight', 'mss', '', 'x']) {
      assert.equal(timeUnitOf(bad), undefined, bad);
      validation(() => normalizeTimeUnit(bad, 'unit'), 'unit');
    }
  });

  it('rejects bad relative times naming the field', () => {
    validation(() => validateRelativeTime({ value: 5, unit: 'fortnights' }, 'startRelative'), 'startRelative.unit', 'fortnights');
    validation(() => validateRelativeTime({ value: 0, unit: 'days' }, 'startRelative'), 'startRelative.value', '0');
    validation(() => validateRelativeTime({ value: 1.5, unit: 'days' }, 'r'), 'r.value', '1.5');
    validation(() => validateRelativeTime({ value: NaN, unit: 'days' }, 'r'), 'r.value', 'NaN');
    validation(() => validateRelativeTime({ value: '5', unit: 'days' }, 'r'), 'r.value', '"5"');
    validation(() => validateRelativeTime({ value: 5 }, 'r'), 'r.unit', 'undefined');
    validation(() => validateRelativeTime(null, 'r'), 'r', 'null');
    validation(() => validateRelativeTime([1, 'days'], 'r'), 'r');
    validation(() => validateRelativeTime('soon', 'r'), 'r', '"soon"');
    validation(() => relativeTimeToMs({ value: -1, unit: 'days' }), 'relativeTime.value');
  });

  it('approximates months and years in relativeTimeToMs', () => {
    assert.equal(relativeTimeToMs({ value: 3, unit: 'seconds' }), 3000);
    assert.equal(relativeTimeToMs({ value: 2, unit: 'weeks' }), 14 * 86_400_000);
    assert.equal(relativeTimeToMs({ value: 1, unit: 'months' }), 30 * 86_400_000);
    assert.equal(relativeTimeToMs({ value: 1, unit: 'years' }), 365 * 86_400_000);
    assert.equal(relativeTimeToMs({ value: 1, unit: 'Day' as RelativeTime['unit'] }), 86_400_000);
  });

  it('subtractRelative does calendar math in the zone', () => {
    const mar31 = Date.UTC(2024, 2, 31, 12);
    assert.equal(subtractRelative(mar31, { value: 1, unit: 'months' }), Date.UTC(2024, 1, 29, 12));
    assert.equal(subtractRelative(Date.UTC(2024, 2, 1), { value: 1, unit: 'years' }), Date.UTC(2023, 2, 1));
    // across the Berlin DST change (2024-03-31 02:00 -> 03:00) one calendar day is 23 hours
    const berlinNoon = Date.UTC(2024, 2, 31, 10);
    assert.equal(subtractRelative(berlinNoon, { value: 1, unit: 'days' }, 'Europe/Berlin'), berlinNoon - 23 * 3_600_000);
    assert.equal(subtractRelative(berlinNoon, { value: 1, unit: 'days' }), berlinNoon - 24 * 3_600_000);
    validation(() => subtractRelative(T, { value: 1, unit: 'days' }, 'Bad/Zone'), 'zone');
  });

  it('isValidZone', () => {
    assert.equal(isValidZone('Europe/Berlin'), true);
    assert.equal(isValidZone('UTC'), true);
    assert.equal(isValidZone('Mars/Base'), false);
    assert.equal(isValidZone(''), false);
    assert.equal(isValidZone(42), false);
  });
});
