/** Node labels, the aggregator list logic, the shared form rows and the small texts of editor/*.ts, in Node. */
import assert from 'node:assert/strict';
import * as l from '../../editor/labels';
import { AGGREGATORS, aggJsonProblem, kairosToRows, rowProblem, rowsProblem, rowsToKairos, type AggregatorRow } from '../../editor/aggregators';
import { OUTBOX_PLACEHOLDER, outboxRows, withOutboxRows } from '../../editor/templates';
import { metricQuery, suggestions } from '../../editor/suggest';
import { testResultText } from '../../editor/test-result';
import { seededRandom } from '../helpers/random';

// A translator that shows which key and values were used.
const t: l.Translate = (key, subs) => (subs ? `${key} ${JSON.stringify(subs)}` : key);

describe('editor labels', function () {
  it('a name wins, in italics', function () {
    for (const label of [l.configLabel, l.queryLabel, l.writeLabel, l.batchLabel, l.streamLabel]) assert.equal(label.call({ name: 'mine' }), 'mine');
    assert.equal(l.labelStyle.call({ name: 'mine' }), 'node_label_italic');
    assert.equal(l.labelStyle.call({}), '');
  });

  it('config: first URL, or the service and its environment', function () {
    assert.equal(l.configLabel.call({ service: 'kairosdb', urls: 'http://a:8080, http://b' }), 'http://a:8080');
    assert.equal(l.configLabel.call({ service: 'kairosdb', urls: '' }), 'KairosDB');
    assert.equal(l.configLabel.call({ service: 'tsd', environment: 'production' }), 'Proficloud TSD');
    assert.equal(l.configLabel.call({ service: 'io', environment: 'staging' }), 'proficloud.io (staging)');
    assert.equal(l.configLabel.call({ service: 'ewima', environment: 'custom', urls: 'https://x' }), 'https://x');
  });

  it('query: metrics, first aggregator and range', function () {
    const aggregators = [{ name: 'avg', value: '10', unit: 'seconds' }, { name: 'max' }];
    assert.equal(
      l.queryLabel.call({ metrics: 'plc.temperature, plc.pressure', metricsType: 'str', aggMode: 'list', aggregators: aggregators.slice(0, 1), start: '10m', startType: 'str' }),
      'plc.temperature, plc.pressure · avg 10s (10m)',
    );
    assert.equal(l.queryLabel.call({ metrics: 'a,b,c', aggMode: 'list', aggregators }), 'a, b +1 · avg 10s +1');
    assert.equal(l.queryLabel.call({ metrics: 'names', metricsType: 'msg', aggMode: 'json', aggregators }), 'msg.names');
    assert.equal(l.queryLabel.call({ metrics: '["a"]', metricsType: 'json' }), 'json');
    assert.equal(l.queryLabel.call({ start: '1h', startType: 'msg' }), 'query');
  });

  it('write, batch and stream: what they do', function () {
    assert.equal(l.writeLabel.call({ maxBatchPoints: 500, maxDelay: 1 }), 'write 500 pts / 1 s');
    assert.equal(l.batchLabel.call({ batchSize: 5000 }), 'batch write 5000 pts/request');
    assert.equal(l.streamLabel.call({ metrics: 'a, b\nc', interval: 10000 }), 'a, b +1 every 10 s');
    assert.equal(l.streamLabel.call({ metrics: '', interval: 120000 }), 'stream every 2 min');
    assert.equal(l.every(250), '250 ms');
    assert.equal(l.every(1500), '1500 ms');
  });
});

describe('editor aggregator list', function () {
  it('checks a row: name, sampling only where the aggregator takes one, JSON parameters, required ones', function () {
    assert.equal(rowProblem({ name: 'avg', value: '10', unit: 'seconds' }, 0, t), undefined);
    assert.equal(rowProblem({ name: '' }, 0, t), '#1 ?: proficloud-query.errors.aggName');
    assert.equal(rowProblem({ name: 'diff', value: '1' }, 1, t), '#2 diff: proficloud-query.errors.aggNoSampling');
    assert.equal(rowProblem({ name: 'avg', value: '-1' }, 0, t), '#1 avg: proficloud-query.errors.aggValue {"value":"-1"}');
    assert.equal(rowProblem({ name: 'avg', params: '[1]' }, 0, t), '#1 avg: proficloud-query.errors.aggParams {"value":"[1]"}');
    assert.equal(rowProblem({ name: 'avg', params: '{x' }, 0, t), '#1 avg: proficloud-query.errors.aggParams {"value":"{x"}');
    assert.equal(rowProblem({ name: 'filter', params: '{"filter_op":"lt"}' }, 2, t), '#3 filter: proficloud-query.errors.aggRequired {"params":"threshold"}');
    assert.equal(rowProblem({ name: 'custom_agg', value: '5' }, 0, t), undefined, 'names outside the catalogue pass');
    assert.equal(rowsProblem([{ name: 'avg' }, { name: 'scale' }], t), '#2 scale: proficloud-query.errors.aggRequired {"params":"factor"}');
  });

  it('checks raw JSON: an array of objects with names', function () {
    assert.equal(aggJsonProblem('[{"name":"avg"}]', t), undefined);
    assert.equal(aggJsonProblem('{', t), 'proficloud-query.errors.aggJson');
    assert.equal(aggJsonProblem('{"name":"avg"}', t), 'proficloud-query.errors.aggJson');
    assert.equal(aggJsonProblem('[{"name":"avg"}, {}]', t), 'proficloud-query.errors.aggJsonName {"index":1}');
  });

  it('list → JSON → list keeps every valid row (seeded)', function () {
    const rnd = seededRandom(1515);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    for (let round = 0; round < 300; round++) {
      const rows: AggregatorRow[] = Array.from({ length: Math.floor(rnd() * 4) }, () => {
        const entry = pick(AGGREGATORS);
        const params: Record<string, unknown> = {};
        for (const p of entry.required ?? []) params[p] = Math.round(rnd() * 100);
        if (rnd() < 0.3) params.extra = pick(['x', 1, [1, 2], { a: 1 }]);
        return {
          name: entry.name,
          value: entry.sampling && rnd() < 0.7 ? String(1 + Math.floor(rnd() * 60)) : '',
          unit: pick(['seconds', 'minutes', 'hours']),
          params: Object.keys(params).length ? JSON.stringify(params) : '',
        };
      });
      assert.equal(rowsProblem(rows, t), undefined, `round ${round}`);
      const json = JSON.stringify(rowsToKairos(rows));
      assert.equal(aggJsonProblem(json, t), undefined, json);
      const back = kairosToRows(JSON.parse(json) as unknown[]);
      assert.deepEqual(
        back.map((r) => ({ ...r, value: String(r.value), unit: r.value === '' ? '' : r.unit })),
        rows.map((r) => ({ ...r, unit: r.value === '' ? '' : r.unit })),
        `round ${round}: ${json}`,
      );
    }
  });
});

describe('editor shared rows and texts', function () {
  it('outbox rows: one template for write and batch, each with its own catalogue keys', function () {
    const write = outboxRows('proficloud-write');
    assert.equal(outboxRows('proficloud-batch'), write.split('proficloud-write').join('proficloud-batch'));
    for (const id of ['outbox', 'outboxMaxMB', 'overflow', 'report']) assert.match(write, new RegExp(`id="node-input-${id}"`));
    for (const key of ['label.outbox', 'label.outboxMaxMB', 'label.overflow', 'overflow.oldest', 'overflow.newest', 'label.reportOutput']) {
      assert.ok(write.includes(`data-i18n="proficloud-write.${key}"`), key);
    }
    assert.match(write, /class="form-row proficloud-row-outbox"/, 'the overflow row hides with the outbox');
    assert.throws(() => outboxRows('"><script>'), /not a proficloud node type/);
  });

  it('withOutboxRows fills the placeholder once', function () {
    const tpl = `<div>a</div>\n${OUTBOX_PLACEHOLDER}\n<div>b</div>`;
    const filled = withOutboxRows(tpl, 'proficloud-batch');
    assert.equal(filled, `<div>a</div>\n${outboxRows('proficloud-batch')}\n<div>b</div>`);
    assert.equal(withOutboxRows(filled, 'proficloud-batch'), filled);
  });

  it('metric suggestions complete the name after the last comma, without repeats, at most 30', function () {
    assert.deepEqual(metricQuery('a, b ,c'), { prefix: 'c', chosen: ['a', 'b'] });
    assert.deepEqual(metricQuery(''), { prefix: '', chosen: [] });
    assert.deepEqual(suggestions(['a'], ['a', 'b', 7]), [{ value: 'a, b', label: 'b' }]);
    assert.deepEqual(suggestions([], null), []);
    assert.equal(suggestions([], Array.from({ length: 50 }, (_, i) => `m${i}`)).length, 30);
  });

  it('Test connection texts: version and health, or the code and error', function () {
    assert.equal(testResultText({ ok: true, version: 'KairosDB 1.3', health: { status: ['ok'] } }, t), 'proficloud-config.test.ok KairosDB 1.3 (ok)');
    assert.equal(testResultText({ ok: true }, t), 'proficloud-config.test.ok proficloud-config.test.noVersion');
    assert.equal(testResultText({ ok: false, code: 'ENETWORK', error: 'refused' }, t), 'proficloud-config.test.failed ENETWORK: refused');
    assert.equal(testResultText(null, t), 'proficloud-config.test.failed ');
  });
});
