import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { KairosConnector } from '../../src/kairos/connector';
import { ParseError } from '../../src/errors';
import { rowsFromQueryResponse, scanColumnarTable, scanSeries, seriesFromQueryResponse } from '../../src/table/table-builder';

/** Query responses read from bytes (connector.querySeries / queryMetrics / queryColumnar) against JSON.parse-based answers. */
describe('connector: query responses from bytes', function () {
  let server: Server;
  let url: string;
  let body: Buffer = Buffer.from('{}');
  let gzip = false;

  before(async function () {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const accepts = String(req.headers['accept-encoding'] ?? '').includes('gzip');
        if (gzip && accepts) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.end(gzipSync(body));
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(body);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(function (done) {
    server.close(() => done());
  });

  afterEach(function () {
    gzip = false;
  });

  const response = {
    queries: [
      { sample_size: 3, results: [{ name: 'a', tags: { line: ['1'] }, values: [[1000, 1.5], [2000, null], [3000, -2e-7]] }] },
      { sample_size: 2, results: [{ name: 's', group_by: [{ name: 'type', type: 'text' }], tags: {}, values: [[1000, 'on'], [2500, 'off']] }] },
      { sample_size: 0, results: [{ name: 'empty', tags: {}, values: [] }] },
    ],
  };

  async function withConnector<T>(fn: (c: KairosConnector) => Promise<T>): Promise<T> {
    const c = new KairosConnector({ baseUrl: url });
    try {
      return await fn(c);
    } finally {
      await c.close();
    }
  }

  it('series, rows and the columnar table equal the parsed-response answers (gzip and plain)', async function () {
    body = Buffer.from(JSON.stringify(response));
    for (const zipped of [false, true]) {
      gzip = zipped;
      await withConnector(async (c) => {
        assert.deepEqual(await c.querySeries({ metrics: 'a', startAbsolute: 1 }), seriesFromQueryResponse(structuredClone(response) as never));
        const opts = { fillNaMethod: 'ffill' as const, dropTrailingNa: false };
        assert.deepEqual(await c.queryMetrics({ metrics: 'a', startAbsolute: 1, ...opts }), rowsFromQueryResponse(structuredClone(response) as never, opts));
        const t = await c.queryColumnar({ metrics: 'a', startAbsolute: 1 });
        assert.deepEqual(t.columns, ['Timestamp', 'a', 's']);
        assert.equal(t.pointCount, 5);
      });
    }
  });

  it('a large gzipped response (inflated into one buffer of the announced size) reads back exactly', async function () {
    const values: Array<[number, number]> = [];
    for (let i = 0; i < 20_000; i++) values.push([1000 + i * 10, Math.sin(i) * 1000]);
    const big = { queries: [{ sample_size: values.length, results: [{ name: 'big', tags: {}, values }] }] };
    body = Buffer.from(JSON.stringify(big));
    gzip = true;
    const series = await withConnector((c) => c.querySeries({ metrics: 'big', startAbsolute: 1 }));
    assert.deepEqual(series[0].values, values);
  });

  it('shapes the scanner leaves out (object values) are parsed the usual way', async function () {
    const complex = { queries: [{ results: [{ name: 'c', tags: {}, values: [[1000, { real: 1, imaginary: 2 }]] }] }] };
    body = Buffer.from(JSON.stringify(complex));
    assert.equal(scanSeries(body), undefined);
    assert.equal(scanColumnarTable(body), undefined);
    const series = await withConnector((c) => c.querySeries({ metrics: 'c', startAbsolute: 1 }));
    assert.deepEqual(series[0].values, [[1000, { real: 1, imaginary: 2 }]]);
  });

  it('unreadable or shapeless bodies give the same ParseErrors as query()', async function () {
    for (const [text, pattern] of [
      ['<html>oops</html>', /Unreadable JSON in the HTTP 200 response .*"<html>oops<\/html>"/],
      ['{"nothing":1}', /no queries array/],
      ['', /no queries array/],
    ] as const) {
      body = Buffer.from(text);
      await withConnector(async (c) => {
        const viaQuery = await c.query({ metrics: 'a', startAbsolute: 1 }).then(() => undefined, (e: Error) => e);
        assert.ok(viaQuery instanceof ParseError, text);
        assert.match(viaQuery.message, pattern);
        for (const run of [() => c.querySeries({ metrics: 'a', startAbsolute: 1 }), () => c.queryMetrics({ metrics: 'a', startAbsolute: 1 })]) {
          await assert.rejects(run(), (e: Error) => e instanceof ParseError && e.message === viaQuery.message);
        }
      });
    }
  });

  it('bad table options are refused naming the option', async function () {
    body = Buffer.from(JSON.stringify(response));
    await withConnector((c) => assert.rejects(c.queryMetrics({ metrics: 'a', startAbsolute: 1, fillNaMethod: 'sideways' as never }), /fillNaMethod/));
  });
});
