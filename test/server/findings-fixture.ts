// The corpus's pushes (cases 005-049, the ones that store data) and a fresh server that has received
// them, so the findings tests can replay a recorded case against the same stored data as KairosDB.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { startServer, type LocalServer } from '../../src/server';
import { request, type Res } from './helpers';

/** [case number, body exactly as sent, gzip as Content-Encoding or as the deprecated Content-Type]. */
type Push = [number, string, ('encoding' | 'type')?];

const PUSHES: Push[] = [
  [5, "[{\"name\": \"cf.cpu\", \"datapoints\": [[1767225600000, 5], [1767225660000, 3], [1767225720000, 8], [1767225780000, 1], [1767225840000, 9], [1767225900000, 2], [1767225960000, 7], [1767226020000, 4], [1767226080000, 6], [1767226140000, 10]], \"tags\": {\"host\": \"h1\", \"dc\": \"eu\"}}]"],
  [6, "[{\"name\": \"cf.cpu\", \"datapoints\": [[1767225630000, 1.5], [1767225690000, 2.5], [1767225750000, 0.5], [1767225810000, 4.25], [1767225870000, 3.0], [1767225930000, 6.5], [1767225990000, 2.0], [1767226050000, 8.75], [1767226110000, 1.0], [1767226170000, 5.5]], \"tags\": {\"host\": \"h2\", \"dc\": \"us\"}}, {\"name\": \"cf.cpu\", \"datapoints\": [[1767225600000, 100], [1767225660000, 200], [1767225720000, 300], [1767225780000, 400], [1767225840000, 500], [1767225900000, 600], [1767225960000, 700], [1767226020000, 800], [1767226080000, 900], [1767226140000, 1000]], \"tags\": {\"host\": \"h3\", \"dc\": \"eu\", \"rack\": \"r1\"}}, {\"name\": \"cf.mem\", \"datapoints\": [[1767225600000, 1024], [1767225660000, 2048]], \"tags\": {\"host\": \"h1\"}}]"],
  [7, "[{\"name\": \"cf.single\", \"timestamp\": 1767225600000, \"value\": 7, \"tags\": {\"host\": \"h1\"}}]"],
  [8, "{\"name\": \"cf.object\", \"datapoints\": [[1767225600000, 1]], \"tags\": {\"host\": \"h1\"}}"],
  [9, "[{\"name\": \"cf.types\", \"datapoints\": [[1767225600000, 42], [1767225601000, 42.0], [1767225602000, 1.5], [1767225603000, -3], [1767225604000, 1000.0], [1767225605000, 9007199254740993], [1767225606000, 0.30000000000000004], [1767225607000, 1e-07]], \"tags\": {\"host\": \"h1\"}}]"],
  [10, "[{\"name\":\"cf.numstr\",\"datapoints\":[[1767225600000,\"12.5\"],[1767225601000,\"42\"],[1767225602000,\"-7\"],[1767225603000,\"1e3\"]],\"tags\":{\"host\":\"h1\"}},{\"name\":\"cf.exp\",\"datapoints\":[[1767225600000,1.5e3],[1767225601000,1e-7],[1767225602000,2E2]],\"tags\":{\"host\":\"h1\"}}]"],
  [11, "[{\"name\": \"cf.typed\", \"type\": \"double\", \"datapoints\": [[1767225600000, 1], [1767225601000, 2]], \"tags\": {\"host\": \"h1\"}}]"],
  [12, "[{\"name\": \"cf.str\", \"datapoints\": [[1767225600000, \"hello\"], [1767225601000, \"world\"]], \"tags\": {\"host\": \"h1\"}}]"],
  [13, "[{\"name\": \"cf.tags5\", \"datapoints\": [[1767225600000, 1]], \"tags\": {\"a\": \"1\", \"b\": \"2\", \"c\": \"3\", \"d\": \"4\", \"e\": \"5\"}}]"],
  [14, "[{\"name\": \"cf.ttl\", \"ttl\": 3600, \"datapoints\": [[1767225600000, 1]], \"tags\": {\"host\": \"h1\"}}]"],
  [15, "[{\"name\": \"cf.gzip\", \"datapoints\": [[1767225600000, 11], [1767225660000, 12]], \"tags\": {\"host\": \"h1\"}}]", 'encoding'],
  [16, "[{\"name\": \"cf.gzip2\", \"datapoints\": [[1767225600000, 5]], \"tags\": {\"host\": \"h1\"}}]", 'type'],
  [17, "[{\"name\": \"cf.dup\", \"datapoints\": [[1767225600000, 1], [1767225600000, 2]], \"tags\": {\"host\": \"h1\"}}]"],
  [18, "[{\"name\": \"cf.dup\", \"datapoints\": [[1767225600000, 3]], \"tags\": {\"host\": \"h1\"}}]"],
  [19, "[{\"name\": \"cf.unordered\", \"datapoints\": [[1767225720000, 3], [1767225600000, 1], [1767225660000, 2]], \"tags\": {\"host\": \"h1\"}}]"],
  [20, "[{\"name\": \"cf metric with spaces\", \"datapoints\": [[1767225600000, 1], [1767225660000, 2]], \"tags\": {\"host\": \"h1\", \"unit\": \"bar~x y\"}}]"],
  [21, "[{\"name\": \"cf/with/slashes\", \"datapoints\": [[1767225600000, 1], [1767225660000, 2]], \"tags\": {\"host\": \"h1\", \"unit\": \"bar~x y\"}}]"],
  [22, "[{\"name\": \"cf.ünïcødé.温度\", \"datapoints\": [[1767225600000, 1], [1767225660000, 2]], \"tags\": {\"host\": \"h1\", \"unit\": \"bar~x y\"}}]"],
  [23, "[{\"name\": \"auto~pressure\", \"datapoints\": [[1767225600000, 1], [1767225660000, 2]], \"tags\": {\"host\": \"h1\", \"unit\": \"bar~x y\"}}]"],
  [24, "[{\"name\": \"cf.dash-under_score:colon\", \"datapoints\": [[1767225600000, 1], [1767225660000, 2]], \"tags\": {\"host\": \"h1\", \"unit\": \"bar~x y\"}}]"],
  [25, "[{\"name\": \"cf.tagvals\", \"datapoints\": [[1767225600000, 1]], \"tags\": {\"loc\": \"Bad Pyrmont/Halle 2\", \"sensor\": \"temp~°C\", \"device\": \"Ü-1\"}}]"],
  [26, "[]"],
  [27, "[{\"name\": \"cf.nopoints\", \"datapoints\": [], \"tags\": {\"host\": \"h1\"}}]"],
  [35, "[{\"name\":\"cf.bad.nanlit\",\"datapoints\":[[1767225600000,NaN]],\"tags\":{\"host\":\"h1\"}}]"],
  [36, "[{\"name\": \"cf.badnan\", \"datapoints\": [[1767225600000, \"NaN\"]], \"tags\": {\"host\": \"h1\"}}]"],
  [37, "[{\"name\": \"cf.bad.bool\", \"datapoints\": [[1767225600000, true]], \"tags\": {\"host\": \"h1\"}}]"],
  [42, "[{\"name\": \"cf.badzero\", \"datapoints\": [[0, 1]], \"tags\": {\"host\": \"h1\"}}]"],
  [43, "[{\"name\": \"cf.badneg\", \"datapoints\": [[-1000, 1]], \"tags\": {\"host\": \"h1\"}}]"],
  [48, "[{\"name\": \"cf.numtag\", \"datapoints\": [[1767225600000, 1]], \"tags\": {\"host\": 5}}]"],
  [49, "[{\"name\": \"cf.partial.ok\", \"datapoints\": [[1767225600000, 1]], \"tags\": {\"host\": \"h1\"}}, {\"name\": \"cf.partial.bad\", \"datapoints\": [[1767225600000, 1]], \"tags\": {}}]"],
];

export const T0 = 1767225600000;

/** A started server holding the corpus's pushed data; `upTo` stops before that case number. */
export async function corpusServer(upTo = Infinity): Promise<LocalServer> {
  const s = await startServer({ port: 0 });
  for (const [n, body, gzip] of PUSHES) {
    if (n >= upTo) break;
    const headers: Record<string, string> = { 'content-type': gzip === 'type' ? 'application/gzip' : 'application/json' };
    if (gzip === 'encoding') headers['content-encoding'] = 'gzip';
    const r = await request(`${s.url}/api/v1/datapoints`, 'POST', gzip ? zlib.gzipSync(body) : body, headers);
    assert.equal(r.status, n === 49 ? 400 : 204, `push of case ${n}: ${r.text}`);
  }
  return s;
}

export interface Answer {
  status: number;
  type: string | undefined;
  body: unknown;
  text: string;
}

/** Sends one request as the corpus recorded it and parses the answer (null for an empty body). */
export async function ask(s: LocalServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const h = text === undefined ? headers : { 'content-type': 'application/json', ...headers };
  const r: Res = await request(s.url + path, method, text, h);
  let parsed: unknown = null;
  if (r.text !== '') {
    try {
      parsed = JSON.parse(r.text);
    } catch {
      parsed = r.text;
    }
  }
  return { status: r.status, type: r.headers['content-type'], body: parsed, text: r.text };
}

export const query = (s: LocalServer, body: unknown): Promise<Answer> => ask(s, 'POST', '/api/v1/datapoints/query', body);

/** The usual window of the corpus's queries: a minute before T0 to an hour after. */
export const WINDOW = { start_absolute: T0 - 60_000, end_absolute: T0 + 3_600_000 };

/** A `queries[]` entry KairosDB gives for one merged number result. */
export function numberResult(name: string, sampleSize: number, tags: Record<string, string[]>, values: Array<[number, number | string | null]>, type = 'number'): unknown {
  return { sample_size: sampleSize, results: [{ name, group_by: [{ name: 'type', type }], tags, values }] };
}

/** The 10 raw points of cf.cpu host h1 (case 005). */
export const H1: Array<[number, number]> = [5, 3, 8, 1, 9, 2, 7, 4, 6, 10].map((v, i) => [T0 + i * 60_000, v]);
/** cf.cpu host h2 (case 006): 30 s offset, doubles. */
export const H2: Array<[number, number]> = [1.5, 2.5, 0.5, 4.25, 3, 6.5, 2, 8.75, 1, 5.5].map((v, i) => [T0 + 30_000 + i * 60_000, v]);
/** cf.cpu host h3 (case 006). */
export const H3: Array<[number, number]> = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000].map((v, i) => [T0 + i * 60_000, v]);
