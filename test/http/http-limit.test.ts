/**
 * Response size limit: a broken or hostile server (or a gzip bomb) must not exhaust memory. Loopback
 * servers send a large body (with and without Content-Length), a gzip bomb and a deflate bomb.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { KairosConnector } from '../../src/kairos/connector';
import { ResponseTooLargeError, ValidationError } from '../../src/errors';
import { DEFAULT_MAX_RESPONSE_BYTES, HttpClient } from '../../src/http/http-client';
import { createService } from '../../nodes/lib/connection';
import type { NodeAPI } from '../../nodes/lib/red';

const MIB = 1024 * 1024;

function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void>; served: () => number }> {
  let served = 0;
  const server: Server = createServer((req, res) => {
    served++;
    handler(req, res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        served: () => served,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Writes `total` bytes of JSON-ish filler in 64 KB chunks, stopping when the client goes away. */
function stream(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    sent = total;
  });
  pump();
}

describe('HttpClient: response size limit', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  async function client(handler: (req: IncomingMessage, res: ServerResponse) => void, maxResponseBytes?: number): Promise<HttpClient> {
    const srv = await serve(handler);
    const c = new HttpClient({ baseUrls: [srv.url], maxResponseBytes });
    closers.push(srv.close, () => c.close());
    return c;
  }

  function tooLarge(limit: number): (e: unknown) => boolean {
    return (e: unknown) => e instanceof ResponseTooLargeError && e.code === 'ETOOLARGE' && e.limit === limit && e.message.includes(`${limit} bytes`) && e.message.includes('maxResponseBytes');
  }

  it('has a documented default of 512 MiB and rejects a bad setting naming the field', () => {
    assert.equal(DEFAULT_MAX_RESPONSE_BYTES, 512 * MIB);
    for (const bad of [0, -1, NaN, 1.5, '10' as unknown as number]) {
      assert.throws(() => new HttpClient({ baseUrls: ['http://127.0.0.1:1'], maxResponseBytes: bad }), (e: unknown) => e instanceof ValidationError && e.field === 'maxResponseBytes');
    }
  });

  it('stops reading a body without Content-Length once it passes the limit', async () => {
    const c = await client((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      stream(res, 64 * MIB);
    }, MIB);
    await assert.rejects(c.request({ method: 'GET', path: '/big' }), tooLarge(MIB));
  });

  it('refuses a Content-Length above the limit before reading the body', async () => {
    const c = await client((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(8 * MIB) });
      stream(res, 8 * MIB);
    }, MIB);
    await assert.rejects(c.request({ method: 'GET', path: '/big' }), tooLarge(MIB));
  });

  it('stops a gzip bomb at the limit (64 MiB of zeros in about 64 KB)', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MIB));
    assert.ok(bomb.length < MIB / 4, `bomb is ${bomb.length} bytes`);
    const c = await client((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    }, MIB);
    const heap0 = process.memoryUsage().arrayBuffers;
    await assert.rejects(c.request({ method: 'GET', path: '/bomb' }), tooLarge(MIB));
    assert.ok(process.memoryUsage().arrayBuffers - heap0 < 32 * MIB, 'the bomb was not inflated in full');
  });

  it('stops a deflate bomb at the limit (zlib-wrapped)', async () => {
    const bomb = deflateSync(Buffer.alloc(16 * MIB));
    const c = await client((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' });
      res.end(bomb);
    }, MIB);
    await assert.rejects(c.request({ method: 'GET', path: '/bomb' }), tooLarge(MIB));
  });

  it('reads bodies up to the limit, plain and gzipped', async () => {
    const body = Buffer.from(JSON.stringify({ v: 'x'.repeat(MIB - 100) }));
    const c = await client((req, res) => {
      if (req.url === '/gz') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(gzipSync(body));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      }
    }, MIB);
    assert.equal((await c.request({ method: 'GET', path: '/plain' })).body.length, body.length);
    assert.equal((await c.request({ method: 'GET', path: '/gz' })).body.length, body.length);
  });

  it('KairosConnector passes maxResponseBytes on; a query answered by a gzip bomb fails with the typed error', async () => {
    const bomb = gzipSync(Buffer.alloc(32 * MIB));
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    });
    const k = new KairosConnector({ baseUrl: srv.url, maxResponseBytes: 2 * MIB });
    closers.push(srv.close, () => k.close());
    await assert.rejects(k.query({ metrics: 'm', startRelative: { value: 1, unit: 'hours' } }), tooLarge(2 * MIB));
    assert.throws(() => new KairosConnector({ baseUrl: srv.url, maxResponseBytes: -5 }), /maxResponseBytes/);
  });

  it('the config node setting "Max. response" (MB) reaches the connector; a bad value names the field', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * MIB));
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    });
    closers.push(srv.close);
    const RED = { nodes: { getNode: () => null, getCredentials: () => undefined } } as unknown as NodeAPI;
    const logger = { warn: () => undefined };
    const service = await createService(RED, { service: 'kairosdb', urls: srv.url, maxResponseMB: 1 }, {}, logger);
    closers.push(() => service.close());
    await assert.rejects(service.connector!.query({ metrics: 'm', startRelative: { value: 1, unit: 'hours' } }), tooLarge(MIB));
    await assert.rejects(createService(RED, { service: 'kairosdb', urls: srv.url, maxResponseMB: 'lots' }, {}, logger), (e: unknown) => e instanceof ValidationError && e.field === 'maxResponseMB');
  });
});
