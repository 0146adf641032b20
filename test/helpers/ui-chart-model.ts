/**
 * A model of Dashboard 2's ui-chart fed with {series, x, y} points: `replace` sets its data, `append`
 * adds to it (and an empty replace clears it). It records every way a chart can lie: a point drawn
 * twice, and a line that steps backwards (a point appended behind the newest of its series).
 */
export interface ChartMsg {
  action?: unknown;
  payload?: unknown;
}

export class UiChartModel {
  readonly lines = new Map<string, number[]>();
  readonly duplicates: string[] = [];
  readonly backwards: string[] = [];
  messages = 0;

  feed(msg: ChartMsg): void {
    this.messages++;
    const points = msg.payload as Array<{ series: string; x: number }>;
    if (!Array.isArray(points)) throw new Error(`chart payload is not an array: ${JSON.stringify(msg.payload)}`);
    if (msg.action === 'replace') this.lines.clear();
    else if (msg.action !== 'append') throw new Error(`unknown chart action ${String(msg.action)}`);
    for (const p of points) {
      let line = this.lines.get(p.series);
      if (!line) this.lines.set(p.series, (line = []));
      const key = `${p.series}@${p.x}`;
      if (line.includes(p.x)) this.duplicates.push(key);
      if (line.length && p.x < line[line.length - 1]) this.backwards.push(key);
      line.push(p.x);
    }
  }

  has(series: string, x: number): boolean {
    return this.lines.get(series)?.includes(x) ?? false;
  }
}
