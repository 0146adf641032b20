/**
 * proficloud-batch: many points per message — row objects, a native KairosDB push array, or CSV text —
 * split into requests of a fixed size through the same store-and-forward queue as proficloud-write.
 */
import { ValidationError } from '../src/errors';
import { metricsFromRows, metricsFromRowsSliced, normalizePushArray, type PushBuildResult } from '../src/push';
import type { Row } from '../src/types';
import type { Service } from './lib/connection';
import { asError } from './lib/props';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './lib/red';
import { messageTags, overflowPolicy, setupWriteNode } from './lib/write-node';

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

/** Individually reported invalid cells per message; the rest are summarised in one more error. */
const MAX_REPORTED = 50;
/** Rows turned into points per event-loop turn (about 10-30 ms each). */
const ROWS_PER_SLICE = 10_000;
const NUMERIC = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** csv-parse, loaded with the first CSV message (most flows send rows): Node-RED start-up does not pay for it. */
function parseCsv(): typeof import('csv-parse/sync').parse {
  return (require('csv-parse/sync') as typeof import('csv-parse/sync')).parse;
}

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
    const tsColumn = (def.timestampColumn || 'Timestamp').trim() || 'Timestamp';
    const maxRows = positiveInt(def.maxRows, 100_000);
    const delimiter = def.csvDelimiter === '\\t' ? '\t' : def.csvDelimiter || ',';

    function checkRows(count: number): void {
      if (count > maxRows) throw new ValidationError('msg.payload', `${count} rows`, `exceeds the limit of ${maxRows} rows per message; split it or raise "max. rows"`);
    }

    function build(msg: NodeMessage, service: Service): PushBuildResult | Promise<PushBuildResult> {
      const tags = messageTags(msg, service);
      let payload = msg.payload;
      if (Buffer.isBuffer(payload)) payload = payload.toString('utf8');
      if (typeof payload === 'string') {
        if (!payload.trim()) throw new ValidationError('msg.payload', payload, 'CSV text is empty');
        let rows: Row[];
        try {
          rows = parseCsv()(payload, { columns: true, skip_empty_lines: true, trim: true, delimiter, cast: csvCell, to: maxRows + 1 }) as Row[];
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
      const rowOpts = { timestampColumnName: tsColumn, tags, zone: service.timeZone };
      // Large tables are built in slices so Node-RED keeps serving other flows meanwhile.
      return payload.length > ROWS_PER_SLICE ? metricsFromRowsSliced(payload as Row[], rowOpts, ROWS_PER_SLICE) : metricsFromRows(payload as Row[], rowOpts);
    }

    setupWriteNode(RED, this, {
      type: 'proficloud-batch',
      topic: 'batch',
      server: def.server,
      report: def.report !== false,
      queue: {
        maxBatchPoints: positiveInt(def.batchSize, 5000),
        // Batches arrive complete; a short delay only merges messages sent back to back.
        maxDelayMs: 100,
        durable: def.outbox !== false,
        outboxMaxMB: def.outboxMaxMB,
        overflow: overflowPolicy(def.overflow),
      },
      maxReported: MAX_REPORTED,
      showQueued: true,
      build,
    });
  }

  RED.nodes.registerType('proficloud-batch', ProficloudBatch);
};
