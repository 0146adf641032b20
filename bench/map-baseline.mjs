/**
 * The straightforward conversion the issue measures against: JSON.parse, a Map of timestamp -> row
 * object, sort, trailing cut and fill. Written for the benchmark only.
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
  let rows = [...byTs.values()].sort((a, b) => a.Timestamp - b.Timestamp);
  if (dropTrailingNa) {
    // The seed's cut, before filling: rows up to the earliest of the metrics' last timestamps.
    let cut = Infinity;
    for (const q of parsed.queries) for (const r of q.results) {
      let last = -Infinity;
      for (const [ts, v] of r.values) if (v !== null && ts > last) last = ts;
      if (last > -Infinity) cut = Math.min(cut, last);
    }
    rows = rows.filter((row) => row.Timestamp <= cut);
  }
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
  return rows;
}
