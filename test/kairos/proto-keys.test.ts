/**
 * User keys never reach an object's prototype on the write path: "__proto__", "constructor" and
 * "toString" work as metric names (payload keys, row columns, push names) and tag names (JSON
 * objects and key=value text).
 */
import assert from 'node:assert/strict';
import { metricsFromRows, metricsFromValues, normalizePushArray, serializePush } from '../../src/kairos/push-body';
import { parseTags } from '../../src/kairos/parse-input';

const NAMES = ['__proto__', 'constructor', 'toString'];
const T = Date.UTC(2024, 0, 1);
/** As a msg from an HTTP or MQTT node has it: JSON.parse makes "__proto__" an own key. */
const json = <V>(text: string): V => JSON.parse(text) as V;
const ownTags = (tags: Record<string, string>): Array<[string, string]> => Object.entries(tags).sort(([a], [b]) => a.localeCompare(b));
const EXPECTED_TAGS: Array<[string, string]> = [['__proto__', 'x'], ['constructor', 'y'], ['toString', 'z']];

describe('__proto__, constructor and toString as user keys', () => {
  const tags = json<Record<string, string>>('{"__proto__": "x", "constructor": "y", "toString": "z"}');

  it('parseTags keeps them as tag names, from JSON objects, JSON text and key=value text', () => {
    assert.deepEqual(ownTags(parseTags(tags, 'msg.tags')), EXPECTED_TAGS);
    assert.deepEqual(ownTags(parseTags('{"__proto__": "x", "constructor": "y", "toString": "z"}', 'msg.tags')), EXPECTED_TAGS);
    assert.deepEqual(ownTags(parseTags('__proto__=x, constructor=y, toString=z', 'msg.tags')), EXPECTED_TAGS);
    assert.equal(Object.getPrototypeOf(parseTags('__proto__=x', 'msg.tags')), Object.prototype, 'the prototype is untouched');
  });

  it('metricsFromValues: as metric names (numbers and text) and tag names', () => {
    const r = metricsFromValues(json('{"__proto__": 1, "constructor": "RUN", "toString": true}'), { timestamp: T, tags });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.metrics.map((m) => [m.name, m.type, m.datapoints]), [['__proto__', 'double', [[T, 1]]], ['constructor', 'string', [[T, 'RUN']]], ['toString', 'long', [[T, 1]]]]);
    for (const m of r.metrics) assert.deepEqual(ownTags(m.tags), EXPECTED_TAGS);
    const wire = JSON.parse(serializePush(r.metrics)) as Array<{ name: string; tags: Record<string, string> }>;
    assert.deepEqual(wire.map((m) => m.name), NAMES);
    for (const m of wire) assert.deepEqual(ownTags(m.tags), EXPECTED_TAGS, 'serialised with all three tags');
  });

  it('metricsFromRows: as column names and tag names; a timestamp column named "constructor" is read as its own key only', () => {
    const r = metricsFromRows(json(`[{"Timestamp": ${T}, "__proto__": 1, "constructor": "on", "toString": 3}]`), { tags });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.metrics.map((m) => m.name), NAMES);
    for (const m of r.metrics) assert.deepEqual(ownTags(m.tags), EXPECTED_TAGS);
    const missing = metricsFromRows([{ v: 1 }], { tags, timestampColumnName: 'constructor' });
    assert.match(missing.errors.join(), /rows\[0\]\.constructor: missing timestamp/);
  });

  it('normalizePushArray: as metric names and tag names', () => {
    const r = normalizePushArray(json(`[{"name": "__proto__", "tags": {"__proto__": "x", "constructor": "y", "toString": "z"}, "datapoints": [[${T}, 1]]}, {"name": "constructor", "tags": {"toString": "z"}, "datapoints": [[${T}, "s"]]}]`));
    assert.deepEqual(r.errors, []);
    assert.deepEqual(ownTags(r.metrics[0].tags), EXPECTED_TAGS);
    assert.deepEqual(r.metrics.map((m) => m.name), ['__proto__', 'constructor']);
  });
});
