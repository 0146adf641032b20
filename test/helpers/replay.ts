/**
 * Replays the recorded KairosDB cases (test/fixtures/conformance) against a server, in file-name order, and names
 * every case whose answer differs. Bodies go out byte for byte. Arrays made only of strings (metric names, tag
 * values) are compared as sets because KairosDB promises no order; numbers match within 1e-9 relative.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface RecordedCase {
  request: { method?: string; path: string; headers?: Record<string, string>; body?: unknown; body_encoding?: 'base64' | 'text' };
  response: { status: number; body: unknown };
}

export interface ReplayResult {
  total: number;
  /** "NNN-name.json: what differs", one per case that does not match. */
  differing: string[];
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(canonical);
    return items.every((x) => typeof x === 'string') ? [...(items as string[])].sort() : items;
  }
  if (v !== null && typeof v === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = canonical((v as Record<string, unknown>)[key]);
    return sorted;
  }
  return v;
}

/** The first difference between got and want as "path: detail", or undefined when they match. */
function difference(got: unknown, want: unknown, at: string): string | undefined {
  if (typeof got === 'number' && typeof want === 'number') {
    const scale = Math.max(1, Math.abs(got), Math.abs(want));
    return got === want || Math.abs(got - want) <= 1e-9 * scale ? undefined : `${at}: ${got} != ${want}`;
  }
  if (Array.isArray(got) && Array.isArray(want)) {
    if (got.length !== want.length) return `${at}: length ${got.length} != ${want.length}`;
    for (let i = 0; i < got.length; i++) {
      const d = difference(got[i], want[i], `${at}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (got !== null && want !== null && typeof got === 'object' && typeof want === 'object' && !Array.isArray(got) && !Array.isArray(want)) {
    const gotKeys = Object.keys(got);
    const wantKeys = Object.keys(want);
    if (gotKeys.join() !== wantKeys.join()) return `${at}: keys ${gotKeys.join()} != ${wantKeys.join()}`;
    for (const key of gotKeys) {
      const d = difference((got as Record<string, unknown>)[key], (want as Record<string, unknown>)[key], `${at}.${key}`);
      if (d) return d;
    }
    return undefined;
  }
  return got === want ? undefined : `${at}: ${JSON.stringify(got)?.slice(0, 80)} != ${JSON.stringify(want)?.slice(0, 80)}`;
}

function payloadOf(req: RecordedCase['request']): string | Buffer | undefined {
  const { body, body_encoding: encoding } = req;
  if (encoding === 'base64') return Buffer.from(String(body), 'base64');
  if (typeof body === 'string') return body;
  if (body === undefined || body === null) return undefined;
  return JSON.stringify(body);
}

export async function replayCases(baseUrl: string, dir: string): Promise<ReplayResult> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const differing: string[] = [];
  for (const file of files) {
    const rec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as RecordedCase;
    const { method = 'GET', path, headers = {} } = rec.request;
    let status: number;
    let text: string;
    try {
      const res = await fetch(baseUrl.replace(/\/$/, '') + path, { method, headers, body: payloadOf(rec.request) });
      status = res.status;
      text = await res.text();
    } catch (err) {
      differing.push(`${file}: request failed: ${(err as Error).message}`);
      continue;
    }
    let got: unknown = null;
    if (text) {
      try {
        got = JSON.parse(text);
      } catch {
        got = text;
      }
    }
    const diff = status !== rec.response.status ? `status ${status} != ${rec.response.status}` : difference(canonical(got), canonical(rec.response.body ?? null), 'body');
    if (diff) differing.push(`${file}: ${diff}`);
  }
  return { total: files.length, differing };
}
