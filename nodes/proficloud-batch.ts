/**
 * proficloud-batch: many points per message — row objects, a native KairosDB push array, or CSV text —
 * split into requests of a fixed size through the same store-and-forward queue as proficloud-write.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { ValidationError } from '../src/errors';
import { metricsFromRows, normalizePushArray, type PushBuildResult } from '../src/push';
import type { Row, WriteResult } from '../src/types';
import { configNodeOf, type ProficloudConfigNode, type Service } from './lib/connection';
import { parseTags } from './lib/parse';
import { enforceLimits } from './lib/limits';
import { asError, syntheticMsg } from './lib/props';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from './lib/red';
import { buffering, busy, failed, ok, translate } from './lib/status';
import { assertWritable, openWriter, tagsOrFallback, validationErrors, type Writer } from './lib/writer';

interface BatchDef extends NodeDef {
  server?: string;
  timestampColumn?: string;
  batchSize?: string | number;
  csvDelimiter?: string;
  maxRows?: string | number;
  outbox?: boolean;
  outboxMaxMB?: string | number;
  overflow?: string;
  report?: boolean;
}

const CLOSE_TIMEOUT_MS = 4000;
/** Individually reported invalid cells per message; the rest are summarised in one more error. */
const MAX_REPORTED = 50;
const NUMERIC = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

function positiveInt(raw: unknown, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function isPushArray(list: unknown[]): boolean {
  return list.length > 0 && list.every((m) => !!m && typeof m === 'object' && typeof (m as { name?: unknown }).name === 'string' && ('datapoints' in m || 'value' in m));
}

/** CSV cells arrive as text: numbers become numbers, empty cells are gaps (skipped), the rest stays text. */
function csvCell(value: string): string | number | null {
  if (value === '') return null;
  return NUMERIC.test(value) ? Number(value) : value;
}

export = function register(RED: NodeAPI): void {
  function ProficloudBatch(this: Node, def: BatchDef): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: BatchDef): void {
    const report = def.report !== false;
    const tsColumn = (def.timestampColumn || 'Timestamp').trim() || 'Timestamp';
    const maxRows = positiveInt(def.maxRows, 100_000);
    const delimiter = def.csvDelimiter === '\\t' ? '\t' : def.csvDelimiter || ',';
    let config: ProficloudConfigNode | undefined;
    let writerPromise: Promise<Writer> | undefined;

    function onResult(result: WriteResult): void {
      config?.reportOk();
      if (result.errors.length) node.error(asError(new ValidationError('write', result.rejected, `server rejected: ${result.errors.join('; ')}`)), syntheticMsg(node, 'batch'));
      node.status(ok(translate(RED, 'proficloud-batch.status.written', 'wrote __count__', { count: result.written })));
      if (report) node.send({ topic: 'batch', payload: result });
    }

    try {
      config = configNodeOf(RED, def.server);
      config.register(node);
      const cfg = config;
      writerPromise = cfg.getService().then((service) =>
        openWriter(RED, node, service, {
          maxBatchPoints: positiveInt(def.batchSize, 5000),
          // Batches arrive complete; a short delay only merges messages sent back to back.
          maxDelayMs: 100,
          durable: def.outbox !== false,
          maxBytes: Math.round((Number(def.outboxMaxMB) > 0 ? Number(def.outboxMaxMB) : 100) * 1024 * 1024),
          overflow: def.overflow === 'drop-newest' ? 'drop-newest' : 'drop-oldest',
          onResult,
          onStatus: (s) => {
            if (s.state === 'error') node.status(failed({ message: s.lastError ?? 'write failed' }));
            else if (s.buffered > 0) node.status(buffering(translate(RED, 'proficloud-batch.status.buffered', 'buffered __count__', { count: s.buffered }), s.lastError));
          },
          onFailure: (err) => {
            const e = asError(err);
            cfg.reportFailure(e);
            node.status(failed(e));
            node.error(e, syntheticMsg(node, 'batch'));
          },
          onDrop: (points, reason) => node.warn(`outbox full: dropped ${points} points (${reason})`),
        }),
      );
      writerPromise.catch((err: unknown) => node.status(failed(err)));
    } catch (err) {
      node.status(failed(err));
    }

    function checkRows(count: number): void {
      if (count > maxRows) throw new ValidationError('msg.payload', `${count} rows`, `exceeds the limit of ${maxRows} rows per message; split it or raise "max. rows"`);
    }

    function build(msg: NodeMessage, service: Service): PushBuildResult {
      const tags = tagsOrFallback({ ...service.defaultTags, ...parseTags(msg.tags, 'msg.tags') });
      let payload = msg.payload;
      if (Buffer.isBuffer(payload)) payload = payload.toString('utf8');
      if (typeof payload === 'string') {
        if (!payload.trim()) throw new ValidationError('msg.payload', payload, 'CSV text is empty');
        let rows: Row[];
        try {
          rows = parseCsv(payload, { columns: true, skip_empty_lines: true, trim: true, delimiter, cast: csvCell, to: maxRows + 1 }) as Row[];
        } catch (err) {
          throw new ValidationError('msg.payload', payload, `is not CSV with a header line: ${asError(err).message}`);
        }
        checkRows(rows.length);
        if (rows.length && !(tsColumn in rows[0])) throw new ValidationError('msg.payload', Object.keys(rows[0]).join(','), `CSV header has no timestamp column "${tsColumn}"`);
        return metricsFromRows(rows, { timestampColumnName: tsColumn, tags, zone: service.timeZone });
      }
      if (!Array.isArray(payload)) throw new ValidationError('msg.payload', payload, 'must be an array of rows, a KairosDB push array or CSV text');
      if (payload.length === 0) throw new ValidationError('msg.payload', payload, 'has no rows');
      checkRows(payload.length);
      if (isPushArray(payload)) return normalizePushArray(payload, { defaultTags: tags });
      return metricsFromRows(payload as Row[], { timestampColumnName: tsColumn, tags, zone: service.timeZone });
    }

    async function handle(msg: NodeMessage): Promise<Error[]> {
      if (!config || !writerPromise) throw new ValidationError('server', def.server, 'no proficloud-config node is selected or it is not deployed');
      const service = await config.getService();
      assertWritable(service);
      const built = enforceLimits(build(msg, service));
      if (built.metrics.length) {
        const writer = await writerPromise;
        node.status(busy(translate(RED, 'proficloud-batch.status.queued', 'queued __count__', { count: built.metrics.reduce((n, m) => n + (m.datapoints?.length ?? 1), 0) })));
        await writer.enqueue(built.metrics);
      }
      return validationErrors(built.errors, MAX_REPORTED);
    }

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      handle(msg).then(
        (problems) => {
          for (const p of problems) node.error(p, msg);
          done();
        },
        (err: unknown) => {
          const e = asError(err);
          node.status(failed(e));
          done(e);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      config?.deregister(node);
      const closing = writerPromise ? writerPromise.then((w) => w.close(CLOSE_TIMEOUT_MS)) : Promise.resolve();
      closing.catch((err: unknown) => node.warn(asError(err).message)).finally(() => done());
    });
  }

  RED.nodes.registerType('proficloud-batch', ProficloudBatch);
};
