/**
 * Rows from a stream: a row (one timestamp, one cell per series) is only sent when it is complete,
 * or can no longer become complete, or has waited long enough.
 *
 * A one-shot query may drop trailing incomplete rows (the data is there or it is not); a stream must
 * not, because the metrics of one moment become visible to polls at different times (ingest is
 * asynchronous and not atomic) while the poller has already counted the points as emitted. So the
 * points of an incomplete row are held here until
 * - every series has a point at that timestamp, or
 * - every series' newest point is at or past it (a series without a point there has moved on), or
 * - the row has waited `graceMs` (a series that stopped, or a metric written rarely),
 * and then the row is released with the cells it has (the rest null). Every point is released in
 * exactly one row. The held points are part of the stream's persisted state (see `held`).
 */
import { ValidationError } from '../errors';
import type { PointValue, Series } from '../types';
import { nonNegativeInt } from '../util/validate';

/** JSON form of the held rows: `[ts, firstSeenMs, [[column, value], ...]]`, ascending by ts. */
export interface HeldRows {
  version: 1;
  rows: Array<[number, number, Array<[string, PointValue]>]>;
}

interface Held {
  firstSeen: number;
  cells: Map<string, PointValue>;
}

export class RowAssembler {
  private grace: number;
  private readonly rows = new Map<number, Held>();
  /** Metric name per column, so released series keep it. */
  private readonly names = new Map<string, string>();

  constructor(graceMs: number, held?: HeldRows) {
    this.grace = nonNegativeInt(graceMs, 'rowGraceMs');
    if (held !== undefined) this.restore(held);
  }

  /** How long an incomplete row waits (ms); the stream node follows its poll interval. */
  get graceMs(): number {
    return this.grace;
  }
  set graceMs(ms: number) {
    this.grace = nonNegativeInt(ms, 'rowGraceMs');
  }

  /** Points held back, waiting for their row. */
  get heldPoints(): number {
    let n = 0;
    for (const r of this.rows.values()) n += r.cells.size;
    return n;
  }

  /** Takes the new points of a poll (each point once: the poller's output). */
  add(series: Series[], now: number): void {
    for (const s of series) {
      const column = s.column ?? s.name;
      this.names.set(column, s.name);
      for (const p of s.values) {
        if (p[1] === null || p[1] === undefined) continue;
        let row = this.rows.get(p[0]);
        if (!row) this.rows.set(p[0], (row = { firstSeen: now, cells: new Map() }));
        // Two points for one cell cannot come from the poller (it emits a timestamp once); keep the newer.
        row.cells.set(column, p[1]);
      }
    }
  }

  /**
   * Releases the rows that are ready, and every older held row with them (so rows leave in time
   * order), as series. `newest` is each known series' newest timestamp (the poller's position).
   */
  release(now: number, newest: Map<string, number>): Series[] {
    if (this.rows.size === 0) return [];
    const times = [...this.rows.keys()].sort((a, b) => a - b);
    let upTo = -1;
    for (let i = times.length - 1; i >= 0; i--) {
      if (this.ready(times[i], now, newest)) {
        upTo = i;
        break;
      }
    }
    if (upTo < 0) return [];
    const out = new Map<string, Array<[number, PointValue]>>();
    for (let i = 0; i <= upTo; i++) {
      const ts = times[i];
      for (const [column, v] of this.rows.get(ts)!.cells) {
        let list = out.get(column);
        if (!list) out.set(column, (list = []));
        list.push([ts, v]);
      }
      this.rows.delete(ts);
    }
    return [...out].map(([column, values]) => ({ name: this.names.get(column) ?? column, column, tags: {}, values }));
  }

  /** Everything held, released now (the stream is being reset, or a caller wants no waiting). */
  flush(): Series[] {
    return this.release(Infinity, new Map());
  }

  private ready(ts: number, now: number, newest: Map<string, number>): boolean {
    const row = this.rows.get(ts)!;
    if (now - row.firstSeen >= this.grace) return true;
    for (const [column, last] of newest) {
      if (!row.cells.has(column) && !(last >= ts)) return false;
    }
    return true;
  }

  /** JSON-serialisable held rows, to persist beside the poller's position. */
  get held(): HeldRows {
    const rows: HeldRows['rows'] = [...this.rows]
      .sort((a, b) => a[0] - b[0])
      .map(([ts, r]) => [ts, r.firstSeen, [...r.cells].map(([c, v]) => [c, v] as [string, PointValue])]);
    return { version: 1, rows };
  }

  private restore(held: HeldRows): void {
    if (held === null || typeof held !== 'object' || held.version !== 1 || !Array.isArray(held.rows)) {
      throw new ValidationError('held', held, 'must be {version: 1, rows: [...]} saved from RowAssembler.held');
    }
    held.rows.forEach((r, i) => {
      const field = `held.rows[${i}]`;
      if (!Array.isArray(r) || typeof r[0] !== 'number' || !Number.isFinite(r[0]) || typeof r[1] !== 'number' || !Array.isArray(r[2])) {
        throw new ValidationError(field, r, 'must be [timestamp, firstSeenMs, [[column, value], ...]]');
      }
      const cells = new Map<string, PointValue>();
      for (const c of r[2]) {
        if (!Array.isArray(c) || typeof c[0] !== 'string' || (typeof c[1] !== 'number' && typeof c[1] !== 'string')) {
          throw new ValidationError(`${field} cell`, c, 'must be [column, number or string]');
        }
        cells.set(c[0], c[1]);
      }
      this.rows.set(r[0], { firstSeen: r[1], cells });
    });
  }
}
