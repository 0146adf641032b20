/** The proficloud-batch node's runtime, loaded when the first such node is deployed (see ../proficloud-batch.ts). */
import { readCsv } from '../../src/table';
import { ValidationError } from '../../src/errors';
import { appendColumns, columnsFromRows, columnsFromRowsSliced, metricsFromRows, normalizePushArray, type DoubleColumns, type PushBuildResult } from '../../src/kairos';
import type { KairosPushMetric, Row } from '../../src/types';
import type { Service } from '../lib/connection';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../lib/red';
import { messageTags, overflowPolicy, setupQueuedWriteNode } from '../lib/write-node-setup';
import { positiveIntOr } from '../../src/util';

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

function isPushArray(list: unknown[]): boolean {
  return list.length > 0 && list.every((m) => !!m && typeof m === 'object' && typeof (m as { name?: unknown }).name === 'string' && ('datapoints' in m || 'value' in m));
}

/** Messages of metricsFromRows name rows[i] of a slice; for CSV input name the line the row is on instead. */
function withLines(errors: string[], lines: number[]): string[] {
  return errors.map((e) => e.replace(/\brows\[(\d+)\]/g, (m, i: string) => (lines[Number(i)] !== undefined ? `CSV line ${lines[Number(i)]}` : m)));
}

/** Collects the points of several metricsFromRows results into one series per name, type and tags. */
class SeriesMerger {
  private readonly byKey = new Map<string, KairosPushMetric>();
  /** Numeric columns stay columns (no array per point), one per name and tags. */
  private readonly columnsByKey = new Map<string, DoubleColumns>();
  errors: string[] = [];
  rejected = 0;

  add(built: PushBuildResult, lines: number[]): void {
    for (const m of built.metrics) {
      const key = `${m.name}\u0000${m.type ?? ''}\u0000${m.ttl ?? ''}\u0000${JSON.stringify(m.tags)}`;
      const have = this.byKey.get(key);
      if (!have) this.byKey.set(key, m);
      else if (have.datapoints && m.datapoints) for (const p of m.datapoints) have.datapoints.push(p);
    }
    for (const c of built.columns ?? []) {
      const key = `${c.name}\u0000${JSON.stringify(c.tags)}`;
      const have = this.columnsByKey.get(key);
      if (!have) this.columnsByKey.set(key, c);
      else appendColumns(have, c);
    }
    if (built.errors.length) this.errors.push(...withLines(built.errors, lines));
    this.rejected += built.rejected;
  }

  metrics(): KairosPushMetric[] {
    return [...this.byKey.values()];
  }

  columns(): DoubleColumns[] {
    return [...this.columnsByKey.values()];
  }
}

/** Sets up one deployed proficloud-batch node. */
export function setupBatchNode(RED: NodeAPI, node: Node, def: BatchDef): void {
  const tsColumn = (def.timestampColumn || 'Timestamp').trim() || 'Timestamp';
  const maxRows = positiveIntOr(def.maxRows, 100_000);
  const delimiter = def.csvDelimiter === '\\t' ? '\t' : def.csvDelimiter || ',';

  function checkRows(count: number): void {
    if (count > maxRows) throw new ValidationError('msg.payload', `${count} rows`, `exceeds the limit of ${maxRows} rows per message; split it or raise "max. rows"`);
  }

  /**
   * CSV text, read in slices with yields between them (src/table/csv-reader.ts), each slice turned into points at
   * once: a 100,000-row message neither stalls Node-RED nor holds all its rows as objects.
   */
  async function buildCsv(text: string, tags: Record<string, string>, service: Service): Promise<PushBuildResult> {
    const merged = new SeriesMerger();
    const opts = { timestampColumnName: tsColumn, tags, zone: service.timeZone };
    const csv = await readCsv(text, { delimiter, timestampColumn: tsColumn, maxRows }, (rows, lines) => merged.add(columnsFromRows(rows, opts), lines));
    if (csv.rows === 0 && csv.errors.length === 0) throw new ValidationError('msg.payload', text, 'has no rows');
    return { metrics: merged.metrics(), columns: merged.columns(), errors: [...csv.errors, ...merged.errors], rejected: csv.rejected + merged.rejected };
  }

  /** Synchronous for row objects and push arrays; a Promise only for CSV text. */
  function build(msg: NodeMessage, service: Service): PushBuildResult | Promise<PushBuildResult> {
    const tags = messageTags(msg, service);
    let payload = msg.payload;
    if (Buffer.isBuffer(payload)) payload = payload.toString('utf8');
    if (typeof payload === 'string') {
      if (!payload.trim()) throw new ValidationError('msg.payload', payload, 'CSV text is empty');
      return buildCsv(payload, tags, service);
    }
    if (!Array.isArray(payload)) throw new ValidationError('msg.payload', payload, 'must be an array of rows, a KairosDB push array or CSV text');
    if (payload.length === 0) throw new ValidationError('msg.payload', payload, 'has no rows');
    checkRows(payload.length);
    if (isPushArray(payload)) return normalizePushArray(payload, { defaultTags: tags });
    const rowOpts = { timestampColumnName: tsColumn, tags, zone: service.timeZone };
    // Large tables are built in slices so Node-RED keeps serving other flows meanwhile, their numeric
    // columns as columns (no array per point), which the queue encodes straight into push bodies.
    return payload.length > ROWS_PER_SLICE ? columnsFromRowsSliced(payload as Row[], rowOpts, ROWS_PER_SLICE) : metricsFromRows(payload as Row[], rowOpts);
  }

  setupQueuedWriteNode(RED, node, {
    type: 'proficloud-batch',
    topic: 'batch',
    server: def.server,
    report: def.report !== false,
    queue: {
      maxBatchPoints: positiveIntOr(def.batchSize, 5000),
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
