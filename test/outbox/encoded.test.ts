/**
 * The encoded write path: push bodies serialised once (when stored) and sent as they are, and column
 * series encoded straight from the row builder. Compared with the object path on randomised input
 * (fixed seeds): the bytes, or what the server ends up holding, must be the same.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KairosConnector } from '../../src/kairos/connector';
import { joinPushBodies } from '../../src/kairos/push-batches';
import {
  appendColumns,
  columnPoints,
  columnsFromRows,
  columnsFromRowsSliced,
  metricsFromColumns,
  metricsFromRows,
  normalizePushArray,
  pushReady,
  serializeColumnsToBuffer,
  serializePushToBuffer,
  type ColumnPiece,
  type DoubleColumns,
} from '../../src/kairos/push-body';
import { moveOutbox } from '../../src/outbox/move-outbox';
import { Outbox } from '../../src/outbox/outbox';
import { WriteQueue, type EncodedSender } from '../../src/outbox/write-queue';
import type { KairosPushMetric, Row, WriteResult } from '../../src/types';
import { PushServer } from './push-server';
import { seededRandom } from '../helpers/random';

/** A cell value of the kinds tables carry: decimals, integers, large and tiny numbers, text, gaps. */
function cell(r: () => number): unknown {
  const k = r();
  if (k < 0.3) return Math.round((r() - 0.5) * 2e6) / 1000;
  if (k < 0.45) return Math.floor(r() * 1e6);
  if (k < 0.55) return (r() - 0.5) * 1e300 * r();
  if (k < 0.62) return r() * 1e-9;
  if (k < 0.7) return r() - 0.5;
  if (k < 0.75) return null;
  if (k < 0.8) return 'text';
  if (k < 0.83) return r() < 0.5;
  if (k < 0.85) return Number.NaN;
  return 2 ** 31 + r() * 1e6;
}

function table(seed: number, rows: number): Row[] {
  const r = seededRandom(seed);
  const cols = ['a', 'b', 'c', 'd'].slice(0, 1 + Math.floor(r() * 4));
  const out: Row[] = [];
  let ts = 1_700_000_000_000;
  for (let i = 0; i < rows; i++) {
    ts += 1 + Math.floor(r() * 1000);
    const row: Row = { Timestamp: ts };
    for (const c of cols) row[c] = cell(r) as Row[string];
    out.push(row);
  }
  return out;
}

/** Every point per series key, in order: what the server keeps (a later equal timestamp wins). */
function pointsBySeries(metrics: KairosPushMetric[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of metrics) {
    const key = `${m.name}|${m.type ?? ''}|${JSON.stringify(m.tags)}`;
    const list = out.get(key) ?? [];
    for (const [t, v] of m.datapoints ?? []) list.push(`${t}=${JSON.stringify(v)}`);
    out.set(key, list);
  }
  return out;
}

/** Random cuts of a column series into pieces, as the queue cuts records. */
function randomPieces(r: () => number, cols: readonly DoubleColumns[]): ColumnPiece[][] {
  const bodies: ColumnPiece[][] = [];
  let current: ColumnPiece[] = [];
  for (const c of cols) {
    for (let from = 0; from < c.length; ) {
      const to = Math.min(c.length, from + 1 + Math.floor(r() * 300));
      current.push({ columns: c, from, to });
      from = to;
      if (r() < 0.4) {
        bodies.push(current);
        current = [];
      }
    }
  }
  if (current.length) bodies.push(current);
  return bodies;
}

describe('encoded write path', function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  const tempDir = async (): Promise<string> => {
    const d = await fs.mkdtemp(join(tmpdir(), 'enc-test-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
  });

  it('joinPushBodies joins arrays into one, leaves one body as it is and skips empty ones', () => {
    const a = Buffer.from('[{"name":"a"}]');
    const b = Buffer.from('[{"name":"b"},{"name":"c"}]');
    assert.equal(joinPushBodies([a]), a);
    assert.deepEqual(JSON.parse(joinPushBodies([a, Buffer.from('[]'), b]).toString()), [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    assert.equal(joinPushBodies([a, b, a]).toString(), '[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"a"}]');
  });

  it('column series hold the same points as metricsFromRows and encode to the same bytes (fixed seeds)', async () => {
    for (const seed of [3, 17, 99, 1234, 777]) {
      const rows = table(seed, 200 + (seed % 500));
      const opts = { tags: { host: 'h1' } };
      const objects = metricsFromRows(rows, opts);
      const r = seededRandom(seed + 1);
      const built = await columnsFromRowsSliced(rows, opts, 1 + Math.floor(r() * 150));
      assert.ok(built.columns && built.columns.length > 0, `seed ${seed}: numeric columns`);
      assert.deepEqual(built.errors, objects.errors, `seed ${seed}`);
      assert.equal(built.rejected, objects.rejected, `seed ${seed}`);
      assert.deepEqual(pointsBySeries([...built.metrics, ...metricsFromColumns(built.columns)]), pointsBySeries(objects.metrics), `seed ${seed}`);
      // Whole series: byte for byte what the object path serialises.
      for (const c of built.columns) {
        const asMetric = metricsFromColumns([c]);
        assert.equal(serializeColumnsToBuffer([{ columns: c, from: 0, to: c.length }]).toString(), serializePushToBuffer(asMetric).toString(), `seed ${seed} ${c.name}`);
      }
      // Cut at random places and joined again: the same points in the same order.
      const bodies = randomPieces(r, built.columns).map((p) => serializeColumnsToBuffer(p));
      const parsed = JSON.parse(joinPushBodies(bodies).toString()) as KairosPushMetric[];
      const reference = JSON.parse(serializePushToBuffer(metricsFromColumns(built.columns)).toString()) as KairosPushMetric[];
      assert.deepEqual(pointsBySeries(parsed), pointsBySeries(reference), `seed ${seed}`);
    }
  });

  it('columns built slice by slice and appended (as the batch node reads CSV) equal the columns of the whole table', () => {
    const rows = table(21, 700);
    const opts = { tags: { host: 'h1' } };
    const whole = columnsFromRows(rows, opts);
    const merged = new Map<string, DoubleColumns>();
    for (let from = 0; from < rows.length; from += 97) {
      for (const c of columnsFromRows(rows.slice(from, from + 97), opts).columns ?? []) {
        const have = merged.get(c.name);
        if (have) appendColumns(have, c);
        else merged.set(c.name, c);
      }
    }
    assert.deepEqual(
      pointsBySeries(metricsFromColumns([...merged.values()])),
      pointsBySeries(metricsFromColumns(whole.columns ?? [])),
    );
  });

  it('encodePush gives the bytes push() would post; pushReady batches skip the copy, others are normalised', async () => {
    const connector = new KairosConnector({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 1000 });
    try {
      for (const seed of [5, 6, 7]) {
        const rows = table(seed, 300);
        const built = metricsFromRows(rows, { tags: { host: 'h' } });
        const ready = built.metrics.filter((m) => m.type === 'double');
        assert.ok(pushReady(ready));
        const body = connector.encodePush(ready);
        assert.ok(body);
        assert.equal(body.toString(), serializePushToBuffer(normalizePushArray(ready).metrics).toString(), `seed ${seed}`);
      }
      // Untyped integers: normalised to doubles first (as push() does), never sent as longs.
      const untyped: KairosPushMetric[] = [{ name: 'u', tags: { h: 'x' }, datapoints: [[1000, 5]] }];
      assert.ok(!pushReady(untyped));
      assert.equal(connector.encodePush(untyped)?.toString(), serializePushToBuffer(normalizePushArray(untyped).metrics).toString());
      // A point push() would reject: not encoded (stored as metrics, reported when sent).
      assert.equal(connector.encodePush([{ name: 'bad', tags: { h: 'x' }, type: 'long', datapoints: [[1000, 1.5]] }]), undefined);
      // More than one request's worth: not encoded either.
      const many: KairosPushMetric[] = [{ name: 'm', tags: { h: 'x' }, type: 'double', datapoints: Array.from({ length: 10_001 }, (_, i) => [i + 1, i] as [number, number]) }];
      assert.equal(connector.encodePush(many), undefined);
    } finally {
      await connector.close();
    }
  });

  it('the outbox keeps encoded records across close and reopen, mixes them with metric records, and moveOutbox carries them', async () => {
    const dir = await tempDir();
    const body = (ts: number): Buffer => serializePushToBuffer([{ name: 'e', tags: { h: 'x' }, type: 'double', datapoints: [[ts, ts / 2]] }]);
    let box = await Outbox.open({ dir });
    await Promise.all([box.appendEncoded(body(1), 1), box.appendEncoded(body(2), 1)]);
    const cached = await box.peek(10);
    assert.deepEqual(cached?.bodies?.map(String), [body(1), body(2)].map(String));
    await box.close();
    box = await Outbox.open({ dir });
    const fromDisk = await box.peek(10);
    assert.deepEqual(fromDisk?.bodies?.map(String), [body(1), body(2)].map(String), 'read back as the same bodies');
    await box.append([{ name: 'm', tags: { h: 'x' }, type: 'long', datapoints: [[3, 3]] }]);
    const mixed = await box.peek(10);
    assert.ok(mixed && mixed.bodies === undefined, 'a batch with a metrics record has no bodies');
    assert.deepEqual(
      mixed.metrics.map((m) => [m.name, m.datapoints]),
      [
        ['e', [[1, 0.5]]],
        ['e', [[2, 1]]],
        ['m', [[3, 3]]],
      ],
    );
    await box.close();
    const to = await tempDir();
    await moveOutbox(dir, to);
    const target = await Outbox.open({ dir: to });
    try {
      const moved = await target.peek(10);
      assert.equal(moved?.points, 3);
      assert.deepEqual(
        moved?.metrics.flatMap((m) => m.datapoints?.map((p) => p[0]) ?? []),
        [1, 2, 3],
      );
    } finally {
      await target.close();
    }
  });

  it('writes large encoded bodies from their own buffers behind framed records, and reads every record back after short writes', async () => {
    const dir = await tempDir();
    const points = (first: number, n: number): Array<[number, number]> => Array.from({ length: n }, (_, i) => [first + i, (first + i) / 4]);
    const body = (first: number, n: number): Buffer => serializePushToBuffer([{ name: 'e', tags: { h: 'x' }, type: 'double', datapoints: points(first, n) }]);
    // Small bodies are framed with the metric records; ones of 64 KB and more go as they are.
    const small = body(1, 3);
    const large = [body(100, 5000), body(20_000, 8000)];
    assert.ok(small.length < 64 * 1024 && large.every((b) => b.length >= 64 * 1024));
    const probe = await fs.open(__filename, 'r');
    const handleProto = Object.getPrototypeOf(probe) as { writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }> };
    await probe.close();
    const writev = handleProto.writev;
    const given: Buffer[] = [];
    // At most 3,000 bytes per call, as a full disk queue or a signal may cut a write short.
    const stub = sinon.stub(handleProto, 'writev').callsFake(function (this: unknown, buffers: Buffer[], position: number) {
      given.push(...buffers);
      const cut: Buffer[] = [];
      let left = 3000;
      for (const b of buffers) {
        if (left <= 0) break;
        cut.push(b.subarray(0, left));
        left -= b.length;
      }
      return writev.call(this, cut, position);
    });
    let box = await Outbox.open({ dir });
    try {
      await Promise.all([
        box.append([{ name: 'm', tags: { h: 'x' }, type: 'long', datapoints: [[1, 1]] }]),
        box.appendEncoded(large[0], 5000),
        box.appendEncoded(small, 3),
        box.appendEncoded(large[1], 8000),
        box.append([{ name: 'm', tags: { h: 'x' }, type: 'long', datapoints: [[2, 2]] }]),
      ]);
    } finally {
      stub.restore();
    }
    assert.ok(stub.callCount > 20, `${stub.callCount} writev calls`);
    assert.ok(large.every((b) => given.includes(b)), 'large bodies written from their own buffers');
    assert.ok(!given.includes(small), 'a small body is copied behind its header');
    await box.close();
    box = await Outbox.open({ dir });
    try {
      const all = await box.peek(100_000);
      assert.equal(all?.points, 1 + 5000 + 3 + 8000 + 1);
      assert.equal(all?.records, 5);
      assert.deepEqual(
        all?.metrics.map((m) => [m.name, m.datapoints?.length, m.datapoints?.[0]]),
        [
          ['m', 1, [1, 1]],
          ['e', 5000, [100, 25]],
          ['e', 3, [1, 0.25]],
          ['e', 8000, [20_000, 5000]],
          ['m', 1, [2, 2]],
        ],
      );
      assert.deepEqual(all?.metrics[3].datapoints, points(20_000, 8000));
    } finally {
      await box.close();
    }
  });

  describe('WriteQueue with an encoder', () => {
    let server: PushServer;
    let connector: KairosConnector;
    beforeEach(async () => {
      server = new PushServer();
      await server.start();
      connector = new KairosConnector({ baseUrl: new URL(server.url).origin, timeoutMs: 2000, maxPointsPerRequest: 700 });
    });
    afterEach(async () => {
      await connector.close();
      await server.stop();
    });
    let encodedSends = 0;
    let objectSends = 0;
    const encoded = (): EncodedSender => ({
      encode: (m) => connector.encodePush(m),
      encodeColumns: (p) => connector.encodeColumns(p),
      send: (body, points, signal) => {
        encodedSends++;
        return connector.pushEncoded(body, points, signal);
      },
      maxPoints: connector.maxPointsPerRequest,
    });
    const objectSend = (m: KairosPushMetric[], s: AbortSignal): Promise<WriteResult> => {
      objectSends++;
      return connector.push(m, s);
    };
    beforeEach(() => {
      encodedSends = 0;
      objectSends = 0;
    });

    it('stores what the object path would send and delivers the same points, in requests within maxPoints (fixed seeds)', async () => {
      for (const seed of [11, 12]) {
        const rows = table(seed, 1500);
        const opts = { tags: { host: 'h' } };
        const box = await Outbox.open({ dir: await tempDir() });
        const q = new WriteQueue({ outbox: box, send: objectSend, encoded: encoded(), maxBatchPoints: 500, maxDelayMs: 60_000 });
        try {
          const built = await columnsFromRowsSliced(rows, opts, 100);
          await q.enqueue(built.metrics, built.columns);
          // A small message of metrics behind it, as the write node sends.
          await q.enqueue([{ name: 'tail', tags: { host: 'h' }, type: 'double', datapoints: [[5, 0.25]] }]);
          await q.flush();
        } finally {
          await q.close(500);
          await box.close();
        }
        const sent = server.requests.flatMap((r) => r.stored);
        const expected = [...metricsFromRows(rows, opts).metrics, { name: 'tail', tags: { host: 'h' }, type: 'double' as const, datapoints: [[5, 0.25]] as Array<[number, number]> }];
        // Values as the server parses them (the wire writes 2 as 2.0, JSON.parse reads it back as 2).
        const norm = (ms: KairosPushMetric[]): Map<string, string[]> => pointsBySeries(JSON.parse(serializePushToBuffer(normalizePushArray(ms).metrics).toString()) as KairosPushMetric[]);
        assert.deepEqual(pointsBySeries(sent), norm(expected), `seed ${seed}`);
        for (const r of server.requests) {
          const n = r.metrics.reduce((k, m) => k + (m.datapoints?.length ?? 0), 0);
          assert.ok(n <= 700, `seed ${seed}: a request of ${n} points`);
        }
        assert.ok(encodedSends >= 3, `seed ${seed}: ${encodedSends} encoded requests`);
        assert.equal(objectSends, 0, `seed ${seed}: every batch went out as stored bodies`);
        server.requests.length = 0;
        encodedSends = 0;
      }
    });

    it('stores a table as records the size of the requests that carry them, so each request sends one stored body as it is', async () => {
      const rows = table(5, 1500);
      const built = await columnsFromRowsSliced(rows, { tags: { host: 'h' } }, 100);
      const total = columnPoints(built.columns);
      // A backlog of more than 4 requests of maxBatchPoints (175): requests grow to the encoder's 700.
      assert.ok(total > 4 * 4 * 175, `${total} points`);
      const box = await Outbox.open({ dir: await tempDir() });
      const peeked: Array<{ points: number; records: number }> = [];
      const peek = box.peek.bind(box);
      box.peek = async (maxPoints) => {
        const batch = await peek(maxPoints);
        if (batch) peeked.push({ points: batch.points, records: batch.records });
        return batch;
      };
      const q = new WriteQueue({ outbox: box, send: objectSend, encoded: encoded(), maxBatchPoints: 175, maxDelayMs: 60_000 });
      try {
        await q.enqueue([], built.columns);
        await q.flush();
      } finally {
        await q.close(500);
        await box.close();
      }
      assert.equal(peeked.length, Math.ceil(total / 700), JSON.stringify(peeked));
      assert.ok(peeked.every((b, i) => b.records === 1 && (b.points === 700 || i === peeked.length - 1)), JSON.stringify(peeked));
      assert.equal(encodedSends, peeked.length);
      assert.equal(server.requests.flatMap((r) => r.stored).reduce((n, m) => n + (m.datapoints?.length ?? 0), 0), total);
    });

    it('refuses column series of a bad shape or with a bad point, naming the field', async () => {
      const box = await Outbox.open({ dir: await tempDir() });
      const q = new WriteQueue({ outbox: box, send: objectSend, encoded: encoded(), maxBatchPoints: 500, maxDelayMs: 60_000 });
      try {
        const col = (values: number[], ts = values.map((_v, i) => i + 1)) => ({ name: 'x', tags: { h: 'a' }, timestamps: Float64Array.from(ts), values: Float64Array.from(values), length: values.length });
        await assert.rejects(q.enqueue([], [{ ...col([1, 2]), length: 3 }]), /columns\[0\]/);
        await assert.rejects(q.enqueue([], [col([1, Number.NaN])]), /x values\[1\].*finite/);
        await assert.rejects(q.enqueue([], [col([1, 2], [5, 0])]), /x timestamps\[1\]/);
        await q.enqueue([], [col([1.5, 2.5])]);
        await q.flush();
        assert.deepEqual(server.requests.flatMap((r) => r.stored.flatMap((m) => m.datapoints)), [[1, 1.5], [2, 2.5]]);
      } finally {
        await q.close(500);
        await box.close();
      }
    });

    it('narrows a 400 on encoded bodies down to the refused message and counts its points', async () => {
      const box = await Outbox.open({ dir: await tempDir() });
      const results: WriteResult[] = [];
      const q = new WriteQueue({ outbox: box, send: objectSend, encoded: encoded(), maxBatchPoints: 500, maxDelayMs: 60_000, onResult: (r) => results.push(r) });
      server.replyFor = (metrics) => {
        const i = metrics.findIndex((m) => m.name === 'bad');
        return i < 0 ? undefined : { status: 400, errors: [`metric[${i}](name=bad).tag[host].value may not be empty.`] };
      };
      try {
        for (let i = 1; i <= 20; i++) await q.enqueue([{ name: i === 7 ? 'bad' : 'good', tags: { host: 'h' }, type: 'double', datapoints: [[i, i], [i + 1000, i]] }]);
        await q.flush();
      } finally {
        await q.close(500);
        await box.close();
      }
      assert.equal(server.storedPoints().size, 38);
      assert.equal(objectSends, 0);
      assert.equal(results.reduce((n, r) => n + r.rejected, 0), 2);
      assert.equal(results.reduce((n, r) => n + r.written, 0), 38);
    });
  });
});
