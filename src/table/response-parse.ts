/** Reading a KairosDB query response given as an object, JSON text or bytes, with a shape check. */
import { ParseError } from '../errors';
import type { KairosQueryResponse } from '../types';

export function parseResponse(resp: KairosQueryResponse | string | Buffer): KairosQueryResponse {
  if (typeof resp === 'string' || Buffer.isBuffer(resp)) {
    const text = typeof resp === 'string' ? resp : resp.toString('utf8');
    try {
      return JSON.parse(text) as KairosQueryResponse;
    } catch (err) {
      throw new ParseError(`query response is not JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  return resp;
}

export function checkResponse(resp: unknown): asserts resp is KairosQueryResponse {
  if (resp === null || typeof resp !== 'object' || !Array.isArray((resp as KairosQueryResponse).queries)) {
    throw new ParseError('query response has no "queries" array');
  }
  const queries = (resp as KairosQueryResponse).queries;
  for (let q = 0; q < queries.length; q++) {
    const query = queries[q];
    if (query === null || typeof query !== 'object' || !Array.isArray(query.results)) {
      throw new ParseError(`query response: queries[${q}] has no "results" array`);
    }
    for (let r = 0; r < query.results.length; r++) {
      const res = query.results[r];
      if (res === null || typeof res !== 'object' || typeof res.name !== 'string') {
        throw new ParseError(`query response: queries[${q}].results[${r}] has no "name"`);
      }
      if (res.values !== undefined && !Array.isArray(res.values)) {
        throw new ParseError(`query response: queries[${q}].results[${r}].values is not an array`);
      }
    }
  }
}
