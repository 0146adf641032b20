// Push-body parsing: KairosDB's type rule from the number text, its validation messages, Gson's
// error positions, and partial-push semantics.
import assert from 'node:assert/strict';
import { ServerError } from '../../src/server/server-errors';
import { JsonReader, GsonError, parseLenient } from '../../src/server/json-reader';
import { parsePush } from '../../src/server/push';
import type { SeriesWrite } from '../../src/server/store';

function push(text: string): { writes: SeriesWrite[]; errors: string[] } {
  const writes: SeriesWrite[] = [];
  const errors = parsePush(text, writes);
  return { writes, errors };
}

function fails(text: string): ServerError {
  try {
    parsePush(text, []);
  } catch (e) {
    assert.ok(e instanceof ServerError, String(e));
    return e;
  }
  assert.fail('expected a ServerError');
}

describe('server: push parsing', () => {
  it('types values by their JSON text: no dot is long (truncated), a dot is double', () => {
    const { writes, errors } = push('[{"name":"m","tags":{"h":"1"},"datapoints":[[1,42],[2,42.0],[3,1e-7],[4,2E2],[5,1.5e3],[6,-3]]}]');
    assert.deepEqual(errors, []);
    const long = writes.find((w) => w.type === 'long');
    const dbl = writes.find((w) => w.type === 'double');
    assert.deepEqual(long, { metric: 'm', tags: { h: '1' }, type: 'long', ts: [1, 3, 4, 6], vs: [42, 0, 200, -3] });
    assert.deepEqual(dbl?.ts, [2, 5]);
    assert.deepEqual(dbl?.vs, [42, 1500]);
  });

  it('stores numeric strings as numbers, other strings, booleans and a lenient NaN as text', () => {
    const { writes } = push('[{"name":"m","tags":{"h":5},"datapoints":[[1,"12.5"],[2,"42"],[3,"1e3"],[4,NaN],[5,true]]}]');
    const byType = Object.fromEntries(writes.map((w) => [w.type, w.vs]));
    assert.deepEqual(byType, { double: [12.5], long: [42], string: ['1e3', 'NaN', 'true'] });
    assert.deepEqual(writes[0].tags, { h: '5' });
  });

  it('honours an explicit type and the per-point third element', () => {
    const { writes } = push('{"name":"m","type":"double","tags":{"h":"1"},"datapoints":[[1,1],[2,"7","string"]]}');
    assert.deepEqual(
      writes.map((w) => [w.type, w.vs]),
      [
        ['double', [1]],
        ['string', ['7']],
      ],
    );
    assert.deepEqual(push('[{"name":"m","type":"complex","tags":{"h":"1"},"datapoints":[[1,1]]}]').errors, ["Unregistered data point type 'complex'"]);
  });

  it('accepts the object form (time wins over timestamp) together with datapoints', () => {
    const { writes } = push('[{"name":"m","tags":{"h":"1"},"timestamp":5,"time":7,"value":3,"datapoints":[[9,4]]}]');
    assert.deepEqual(writes[0].ts, [7, 9]);
  });

  it('reports KairosDB validation messages, keeping valid metrics of a partial push', () => {
    const { writes, errors } = push(
      '[{"name":"ok","tags":{"h":"1"},"datapoints":[[1,1]]},{"name":"bad","tags":{}},{"tags":{"h":"1"}},{"name":"","tags":{"h":"1"}},' +
        '{"name":"t","tags":{"":"x","h":""}},{"name":"v","tags":{"h":"1"},"datapoints":[[1,null],[2],[3,5],["4",6]]},{"name":"o","tags":{"h":"1"},"value":1}]',
    );
    assert.deepEqual(errors, [
      'metric[1](name=bad).tags count must be greater than or equal to 1.',
      'metric[2].name may not be null.',
      'metric[3].name may not be empty.',
      'metric[4](name=t).tag[0].name may not be empty.',
      'metric[4](name=t).tag[h].value may not be empty.',
      // KairosDB does not advance its counter past rejected points, so both carry index 0.
      'metric[5](name=v).datapoints[0].value may not be empty.',
      'metric[5](name=v).datapoints[0].value cannot be null or empty.',
      'metric[6](name=o).timestamp may not be null.',
    ]);
    assert.deepEqual(
      writes.map((w) => [w.metric, w.ts]),
      [
        ['ok', [1]],
        ['v', [3, 4]],
      ],
    );
  });

  it('answers Gson messages with positions for malformed bodies', () => {
    assert.deepEqual(fails('[{"name":"cf.bad","datapoints":[[1767225600000,1]').errors, [
      'java.io.EOFException: End of input at line 1 column 50 path $[0].datapoints[1]',
    ]);
    assert.deepEqual(fails('hello world').errors, ['Use JsonReader.setLenient(true) to accept malformed JSON at line 1 column 1 path $']);
    assert.deepEqual(fails('').errors, ['Invalid json. No content due to end of input.']);
    assert.deepEqual(fails('[').errors, ['Invalid json. No content due to end of input.']);
    assert.deepEqual(fails('[{"name": "cf.bad", "datapoints": [[1767225600000, 1]], "tags": ["host", "h1"]}]').errors, [
      'java.lang.IllegalStateException: Expected BEGIN_ARRAY but was STRING at line 1 column 67 path $[0].tags[0]',
    ]);
    assert.deepEqual(fails('[{"name": "cf.bad", "datapoints": {"t": 1}, "tags": {"host": "h1"}}]').errors, [
      'java.lang.IllegalStateException: Expected BEGIN_ARRAY but was BEGIN_OBJECT at line 1 column 36 path $[0].datapoints',
    ]);
  });

  it('fails with 500 where KairosDB throws (string timestamp)', () => {
    const e = fails('[{"name":"m","tags":{"h":"1"},"datapoints":[["2026-01-01",1]]}]');
    assert.equal(e.status, 500);
    assert.deepEqual(e.errors, ['For input string: "2026-01-01"']);
  });
});

describe('server: Gson-like JSON reader', () => {
  it('tracks lines, columns and paths across newlines', () => {
    const r = new JsonReader('{\n "a": [1,\n  2,', false);
    assert.throws(
      () => r.readTree(),
      (e: unknown) => e instanceof GsonError && e.message === 'End of input at line 3 column 5 path $.a[2]',
    );
  });

  it('reads lenient documents like Gson JsonParser (comments, single quotes, unquoted names)', () => {
    assert.deepEqual(parseLenient("{'a': 1, b: NaN, # note\n c: [x]}"), { a: 1, b: 'NaN', c: ['x'] });
    assert.throws(() => parseLenient('{"a": 1} x'), /Did not consume the entire document/);
  });
});
