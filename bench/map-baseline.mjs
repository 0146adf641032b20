/**
 * The straightforward conversion the issue measures against: JSON.parse, a Map of timestamp -> row
 * object, sort, fill and trailing drop. Written for the benchmark only.
 */
export function mapRows(bytes, { fillNaMethod = null, dropTrailingNa = true } = {}) {
  const parsed = JSON.parse(bytes.toString('utf8'));
  const names = [];
  const byTs = new Map();
  for (const q of parsed.queries) {
    for (const r of q.results) {
      if (!r.values.length) continue;
      names.push(r.name);
      for (const [ts, v] of r.values) {
        let row = byTs.get(ts);
        if (!row) {
          row = { Timestamp: ts };
          byTs.set(ts, row);
        }
        row[r.name] = v;
      }
    }
  }
  const rows = [...byTs.values()].sort((a, b) => a.Timestamp - b.Timestamp);
  for (const row of rows) for (const n of names) if (row[n] === undefined) row[n] = null;
  if (fillNaMethod === 'ffill') {
    for (const n of names) {
      let last = null;
      for (const row of rows) {
        if (row[n] === null) row[n] = last;
        else last = row[n];
      }
    }
  }
  if (dropTrailingNa) {
    while (rows.length && names.some((n) => rows[rows.length - 1][n] === null)) rows.pop();
  }
  return rows;
}
