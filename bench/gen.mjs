/**
 * Generated KairosDB query responses and push rows for the benchmarks, with the figures a correct
 * conversion must reproduce (row counts, column sums), computed here independently of src/.
 *
 * Response layout: `metrics` results of `points` values each, one query per metric as KairosDB sends
 * them. Metric m has a point at j*1000 ms for every j; odd metrics move every odd point to j*1000+500,
 * so half their timestamps are shared with the even metrics and the join produces 1.5 * points rows.
 */
const T0 = 1767225600000;

/** Value of metric m at point j: doubles with full precision, 3 decimals, or longs. */
export function valueAt(m, j) {
  switch (m % 3) {
    case 0:
      return 20 + Math.sin(j / 100 + m) * 5;
    case 1:
      return Math.round((j % 1000) * 12.345 + m) / 1000;
    default:
      return (j * 7 + m) % 100000;
  }
}

export function timestampAt(m, j) {
  return T0 + j * 1000 + (m % 2 === 1 && j % 2 === 1 ? 500 : 0);
}

/** The response bytes (Buffer), built in chunks so generation itself stays cheap in memory. */
export function queryResponse(metrics, points) {
  const parts = [];
  let text = '{"queries":[';
  for (let m = 0; m < metrics; m++) {
    if (m > 0) text += ',';
    text += `{"sample_size":${points},"results":[{"name":"m${m}","group_by":[{"name":"type","type":"number"}],"tags":{"host":["plc1"]},"values":[`;
    for (let j = 0; j < points; j++) {
      text += `${j > 0 ? ',' : ''}[${timestampAt(m, j)},${valueAt(m, j)}]`;
      if (text.length > 1 << 20) {
        parts.push(Buffer.from(text, 'latin1'));
        text = '';
      }
    }
    text += ']}]}';
  }
  text += ']}';
  parts.push(Buffer.from(text, 'latin1'));
  return Buffer.concat(parts);
}

/**
 * What a correct table of queryResponse(metrics, points) holds, without building it: all rows, the rows
 * kept by the trailing cut (dropTrailingNa: rows up to the earliest of the metrics' last timestamps) and
 * per-column sums of the kept rows, both with no fill and with ffill (applied after the cut).
 */
export function expectedTable(metrics, points) {
  const allRows = points + Math.floor(points / 2);
  // With an even points count the odd metrics end 500 ms after the even ones: that last row is cut.
  const cut = metrics > 1 && (points - 1) % 2 === 1;
  const keptRows = cut ? allRows - 1 : allRows;
  const sums = [];
  const ffillSums = [];
  for (let m = 0; m < metrics; m++) {
    let s = 0;
    let f = 0;
    for (let j = 0; j < points; j++) {
      const v = valueAt(m, j);
      s += v;
      f += v;
      // the extra j*1000+500 row (odd j) repeats v for even metrics; odd metrics repeat v at j*1000 (odd j) from j-1
      if (j % 2 === 1) f += m % 2 === 0 ? v : valueAt(m, j - 1);
    }
    if (cut) {
      // The cut row (the last j*1000+500) held the last value of every metric: its own point for odd
      // metrics, the forward-filled one for even metrics.
      const last = valueAt(m, points - 1);
      if (m % 2 === 1) s -= last;
      f -= last;
    }
    sums.push(s);
    ffillSums.push(f);
  }
  return { allRows, keptRows, sums, ffillSums };
}

/** Row objects for the write benchmarks: `columns` numeric columns, one row per second. */
export function pushRows(rows, columns) {
  const out = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const row = { Timestamp: T0 + i * 1000 };
    for (let c = 0; c < columns; c++) row[`c${c}`] = valueAt(c, i);
    out[i] = row;
  }
  return out;
}

export const START_MS = T0;
