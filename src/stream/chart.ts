/**
 * Messages for a live chart (Dashboard 2's ui-chart: `action: 'replace'` sets its data, `'append'`
 * adds to it) that stays true: each point drawn once, every line in time order.
 *
 * - The first message after every start (deploy, restart, "start" command) replaces the chart's data
 *   with the window, because the chart keeps its data across deploys and the stream cannot know what
 *   it holds.
 * - Window mode replaces on every poll.
 * - A late point (older than a point of its series already drawn) inside the window cannot be appended
 *   without a line stepping backwards, so the window is replaced instead (one extra full poll).
 * - Otherwise new points are appended; they are newer than anything drawn in their series.
 * Large replacements go out as one replace plus appends, in time order, at most `maxPoints` each.
 */
import { seriesToChart } from '../table';
import type { PointValue } from '../types';
import type { PollResult } from './poller';

export interface ChartPoint {
  series: string;
  x: number;
  y: PointValue | null;
}

export interface ChartMessage {
  action: 'replace' | 'append';
  payload: ChartPoint[];
  /** Set on a replacement that late points caused. */
  late?: boolean;
}

export class ChartFeed {
  private replaceNext = true;

  constructor(
    private readonly windowMs: number,
    private readonly windowMode: boolean,
    private readonly maxPoints: number,
  ) {}

  /** The next poll must replace the chart (after a start, a reset, or a late point). */
  get wantsFull(): boolean {
    return this.replaceNext || this.windowMode;
  }

  /** Call on every start: the chart may hold anything, so the first message replaces it. */
  restart(): void {
    this.replaceNext = true;
  }

  /**
   * Messages for a poll's result, or 'full' when late points need the window replaced and the
   * result has no window: poll again with `full` and pass that result (and `late` = true).
   */
  messages(result: PollResult, late = false): ChartMessage[] | 'full' {
    if (result.window) {
      this.replaceNext = false;
      return this.chunks(seriesToChart(result.window), late);
    }
    const windowStart = result.range.end - this.windowMs;
    if (result.late.some((s) => s.values.some(([ts]) => ts >= windowStart))) return 'full';
    const points = seriesToChart(result.series);
    return points.length ? [{ action: 'append', payload: points }] : [];
  }

  private chunks(points: ChartPoint[], late: boolean): ChartMessage[] {
    // One time order over all series, so every message continues each line where the last one ended.
    points.sort((a, b) => a.x - b.x);
    const out: ChartMessage[] = [];
    for (let i = 0; i === 0 || i < points.length; i += this.maxPoints) {
      const msg: ChartMessage = { action: i === 0 ? 'replace' : 'append', payload: points.slice(i, i + this.maxPoints) };
      if (late) msg.late = true;
      out.push(msg);
    }
    return out;
  }
}
