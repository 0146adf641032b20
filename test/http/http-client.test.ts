import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { AuthenticationError, HttpStatusError, NetworkError, ParseError, TimeoutError, ValidationError } from '../../src/errors';
import { HttpClient } from '../../src/http/http-client';
import { joinUrl } from '../../src/http/url';
import type { DebugEvent } from '../../src/types';
import { TLS_CERT_FILE, TLS_KEY_FILE } from '../helpers/fixtures';
import { refusedPort, startForwardProxy, startStub, type Stub } from '../helpers/kairos-stub';

describe('HttpClient', () => {
  let stub: Stub;
  const clients: HttpClient[] = [];
  const make = (opts: ConstructorParameters<typeof HttpClient>[0]): HttpClient => {
    const c = new HttpClient(opts);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    stub = await startStub(() => ({ body: { ok: true } }));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await stub.close();
  });

  describe('base URLs', () => {
    it('joins a path prefix and a path with exactly one slash, keeping a trailing slash', () => {
      assert.equal(joinUrl('https://h/ds/v1/kairos/', '/api/v1/datapoints/query/'), 'https://h/ds/v1/kairos/api/v1/datapoints/query/');
      assert.equal(joinUrl('https://h', 'api/v1/version'), 'https://h/api/v1/version');
      assert.equal(joinUrl('https://h//', '//api', { prefix: 'a b' }), 'https://h/api?prefix=a+b');
    });

    it('sends requests below a prefixed base URL', async () => {
      const c = make({ baseUrls: [`${stub.url}/ds/v1/kairos/`] });
      await c.request({ method: 'GET', path: '/api/v1/version' });
      assert.equal(stub.requests[0].url, '/ds/v1/kairos/api/v1/version');
    });

    it('rejects bad base URLs, naming the field and hiding credentials', () => {
      assert.throws(() => new HttpClient({ baseUrls: [] }), /baseUrls/);
      assert.throws(() => new HttpClient({ baseUrls: ['ftp://x'] }), (e: unknown) => e instanceof ValidationError && e.field === 'baseUrls[0]');
      assert.throws(
        () => new HttpClient({ baseUrls: ['http://u:hunter22@h/'] }),
        (e: unknown) => e instanceof ValidationError && !e.message.includes('hunter22'),
      );
      assert.throws(() => new HttpClient({ baseUrls: ['http://h'], timeoutMs: -1 }), /timeoutMs/);
    });
  });

  describe('cluster fail-over', () => {
    it('moves on to the next URL when one refuses connections', async () => {
      const dead = `http://127.0.0.1:${await refusedPort()}`;
      const c = make({ baseUrls: [dead, stub.url] });
      for (let i = 0; i < 4; i++) {
        const r = await c.request({ method: 'GET', path: '/api/v1/version' });
        assert.equal(r.status, 200);
        assert.equal(r.baseUrl, `${stub.url}/`);
      }
      assert.equal(stub.requests.length, 4);
    });

    it('spreads requests round-robin over healthy URLs', async () => {
      const other = await startStub(() => ({ body: {} }));
      try {
        const c = make({ baseUrls: [stub.url, other.url] });
        for (let i = 0; i < 6; i++) await c.request({ method: 'GET', path: '/x' });
        assert.equal(stub.requests.length, 3);
        assert.equal(other.requests.length, 3);
      } finally {
        await other.close();
      }
    });

    it('does not fail over on HTTP error statuses', async () => {
      const other = await startStub(() => ({ body: {} }));
      stub.setHandler(() => ({ status: 500, body: { errors: ['boom'] } }));
      try {
        const c = make({ baseUrls: [stub.url, other.url] });
        const r = await c.request({ method: 'GET', path: '/x' });
        assert.equal(r.status, 500);
        assert.equal(other.requests.length, 0);
      } finally {
        await other.close();
      }
    });

    it('throws a NetworkError naming the host when every URL refuses', async () => {
      const port = await refusedPort();
      const c = make({ baseUrls: [`http://127.0.0.1:${port}`] });
      await assert.rejects(c.request({ method: 'GET', path: '/x' }), (e: unknown) => {
        assert.ok(e instanceof NetworkError);
        assert.equal(e.code, 'ENETWORK');
        assert.equal(e.retryable, true);
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        assert.match(e.message, /ECONNREFUSED/);
        return true;
      });
    });
  });

  describe('proxies', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const k of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    });

    it('goes through an explicit proxy URL', async () => {
      const proxy = await startForwardProxy();
      try {
        const c = make({ baseUrls: [stub.url], proxy: proxy.url });
        const r = await c.request({ method: 'GET', path: '/api/v1/version' });
        assert.equal(r.status, 200);
        assert.deepEqual(proxy.forwarded, [`${stub.url}/api/v1/version`]);
      } finally {
        await proxy.close();
      }
    });

    it("honours HTTP_PROXY and NO_PROXY with 'env', and ignores them with 'none'", async () => {
      const proxy = await startForwardProxy();
      try {
        process.env.HTTP_PROXY = proxy.url;
        process.env.http_proxy = proxy.url;
        delete process.env.NO_PROXY;
        delete process.env.no_proxy;
        await make({ baseUrls: [stub.url], proxy: 'env' }).request({ method: 'GET', path: '/a' });
        assert.equal(proxy.forwarded.length, 1);
        await make({ baseUrls: [stub.url], proxy: 'none' }).request({ method: 'GET', path: '/b' });
        assert.equal(proxy.forwarded.length, 1);
        process.env.NO_PROXY = '127.0.0.1';
        process.env.no_proxy = '127.0.0.1';
        await make({ baseUrls: [stub.url], proxy: 'env' }).request({ method: 'GET', path: '/c' });
        assert.equal(proxy.forwarded.length, 1);
        assert.deepEqual(stub.requests.map((r) => r.path), ['/a', '/b', '/c']);
      } finally {
        await proxy.close();
      }
    });

    it('rejects a malformed proxy setting without echoing its password', () => {
      assert.throws(
        () => new HttpClient({ baseUrls: [stub.url], proxy: 'ftp://user:topsecret@p' }),
        (e: unknown) => e instanceof ValidationError && e.field === 'proxy' && !e.message.includes('topsecret'),
      );
    });
  });

  describe('TLS', function () {
    const cert = readFileSync(TLS_CERT_FILE, 'utf8');
    const key = readFileSync(TLS_KEY_FILE, 'utf8');

    it('verifies certificates by default, trusts a custom CA, and warns once when verification is off', async () => {
      const tlsStub = await startStub(() => ({ body: { ok: 1 } }), { key, cert });
      try {
        await assert.rejects(make({ baseUrls: [tlsStub.url] }).request({ method: 'GET', path: '/x' }), (e: unknown) => {
          assert.ok(e instanceof NetworkError);
          assert.match(e.message, /TLS failure talking to 127\.0\.0\.1/);
          return true;
        });
        const withCa = await make({ baseUrls: [tlsStub.url], tls: { ca: cert } }).request({ method: 'GET', path: '/x' });
        assert.equal(withCa.status, 200);
        const warnings: string[] = [];
        const insecure = make({ baseUrls: [tlsStub.url], tls: { rejectUnauthorized: false }, logger: { warn: (m) => warnings.push(m) } });
        await insecure.request({ method: 'GET', path: '/x' });
        await insecure.request({ method: 'GET', path: '/x' });
        assert.equal(warnings.length, 1);
        assert.match(warnings[0], /rejectUnauthorized/);
      } finally {
        await tlsStub.close();
      }
    });
  });

  describe('timeouts and aborts', () => {
    it('times out waiting for headers', async () => {
      stub.setHandler(() => ({ delayMs: 400, body: {} }));
      const c = make({ baseUrls: [stub.url], timeoutMs: 80 });
      // A client that waited for the answer would resolve with it; the ETIMEOUT shows it gave up at 80 ms.
      await assert.rejects(c.request({ method: 'GET', path: '/slow' }), (e: unknown) => {
        assert.ok(e instanceof TimeoutError);
        assert.equal(e.code, 'ETIMEOUT');
        assert.match(e.message, /127\.0\.0\.1.*80 ms/);
        return true;
      });
    });

    it('times out when the body stalls after the headers', async () => {
      const server: Server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"queries":');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const c = make({ baseUrls: [`http://127.0.0.1:${(server.address() as AddressInfo).port}`] });
        await assert.rejects(c.request({ method: 'GET', path: '/x', timeoutMs: 100 }), TimeoutError);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });

    it("stops when the caller's signal aborts", async () => {
      stub.setHandler(() => ({ delayMs: 300, body: {} }));
      const c = make({ baseUrls: [stub.url] });
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('caller gave up')), 30);
      await assert.rejects(c.request({ method: 'GET', path: '/x', signal: ac.signal }), /caller gave up/);
    });
  });

  describe('gzip', () => {
    const big = { metrics: Array.from({ length: 2000 }, (_, i) => ({ name: `m${i}`, v: i })) };

    it('gzips large bodies when allowed, and only then', async () => {
      const c = make({ baseUrls: [stub.url], gzipThresholdBytes: 1024 });
      await c.request({ method: 'POST', path: '/push', body: big, allowGzip: true });
      await c.request({ method: 'POST', path: '/query', body: big });
      await c.request({ method: 'POST', path: '/push', body: { small: 1 }, allowGzip: true });
      const [gz, plainBig, small] = stub.requests;
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.ok(gz.rawBody.length < gz.body.length);
      assert.deepEqual(gz.json(), big);
      assert.equal(plainBig.headers['content-encoding'], undefined);
      assert.deepEqual(plainBig.json(), big);
      assert.equal(small.headers['content-encoding'], undefined);
      assert.equal(gz.headers['content-type'], 'application/json');
    });

    it('never gzips with threshold 0 or Infinity', async () => {
      await make({ baseUrls: [stub.url], gzipThresholdBytes: 0 }).request({ method: 'POST', path: '/push', body: big, allowGzip: true });
      await make({ baseUrls: [stub.url], gzipThresholdBytes: Infinity }).request({ method: 'POST', path: '/push', body: big, allowGzip: true });
      assert.deepEqual(stub.requests.map((r) => r.headers['content-encoding']), [undefined, undefined]);
      assert.throws(() => new HttpClient({ baseUrls: [stub.url], gzipThresholdBytes: NaN }), /gzipThresholdBytes/);
      assert.throws(() => new HttpClient({ baseUrls: [stub.url], timeoutMs: Infinity }), /timeoutMs/);
    });

    it('asks for and decompresses gzip responses', async () => {
      stub.setHandler(() => ({ body: { version: 'KairosDB 1.3.0' }, gzip: true }));
      const c = make({ baseUrls: [stub.url] });
      const v = await c.requestJson<{ version: string }>({ method: 'GET', path: '/api/v1/version' });
      assert.equal(v.version, 'KairosDB 1.3.0');
      assert.match(String(stub.requests[0].headers['accept-encoding']), /gzip/);
    });

    it('reports an undecodable gzip response as a ParseError', async () => {
      stub.setHandler(() => ({ body: 'not gzip at all', headers: { 'content-encoding': 'gzip' } }));
      await assert.rejects(make({ baseUrls: [stub.url] }).request({ method: 'GET', path: '/x' }), ParseError);
    });
  });

  describe('debug events', () => {
    it('redacts Authorization and secrets, and truncates huge bodies', async () => {
      const token = Buffer.from('acct:pa55word').toString('base64');
      stub.setHandler((req) => ({ body: { echo: req.text().slice(0, 100), huge: 'x'.repeat(100_000) } }));
      const events: DebugEvent[] = [];
      const c = make({
        baseUrls: [stub.url],
        authorization: () => `Basic ${token}`,
        secrets: () => ['pa55word'],
        onDebug: (e) => events.push(e),
      });
      await c.request({ method: 'POST', path: '/q', body: { note: `pw pa55word tok ${token}` } });
      assert.equal(stub.requests[0].headers.authorization, `Basic ${token}`);
      assert.equal(events.length, 1);
      const e = events[0];
      const dump = JSON.stringify(e);
      assert.ok(!dump.includes('pa55word'));
      assert.ok(!dump.includes(token));
      assert.equal(e.requestHeaders.authorization, '***');
      assert.equal(e.status, 200);
      assert.ok(e.responseBody && e.responseBody.length < 20_000);
      assert.match(e.responseBody ?? '', /truncated/);
      assert.equal(e.url, `${stub.url}/q`);
    });

    it('reports failed attempts too, without secrets', async () => {
      const events: DebugEvent[] = [];
      const port = await refusedPort();
      const c = make({ baseUrls: [`http://127.0.0.1:${port}`], authorization: () => 'Bearer sekrit-token', onDebug: (e) => events.push(e) });
      await assert.rejects(c.request({ method: 'GET', path: '/x' }), NetworkError);
      assert.equal(events.length, 1);
      assert.match(events[0].error ?? '', /ECONNREFUSED/);
      assert.ok(!JSON.stringify(events).includes('sekrit-token'));
    });
  });

  describe('requestJson error typing', () => {
    const c = (): HttpClient => make({ baseUrls: [stub.url], secrets: () => ['s3cr3t!'] });

    it('400 with KairosDB errors list', async () => {
      stub.setHandler(() => ({ status: 400, body: { errors: ['query.metric[0].name may not be empty'] } }));
      await assert.rejects(c().requestJson({ method: 'POST', path: '/api/v1/datapoints/query', body: {} }), (e: unknown) => {
        assert.ok(e instanceof HttpStatusError);
        assert.equal(e.status, 400);
        assert.equal(e.retryable, false);
        assert.deepEqual(e.serverErrors, ['query.metric[0].name may not be empty']);
        assert.match(e.message, /may not be empty/);
        return true;
      });
    });

    it('401 and 403 become AuthenticationError, even with an HTML body', async () => {
      stub.setHandler(() => ({ status: 401, body: '<html><body><h2>HTTP ERROR 401</h2> Unauthorized s3cr3t!</body></html>' }));
      await assert.rejects(c().requestJson({ method: 'GET', path: '/x' }), (e: unknown) => {
        assert.ok(e instanceof AuthenticationError);
        assert.equal(e.code, 'EAUTH');
        assert.equal(e.status, 401);
        assert.ok(!e.message.includes('<html>'));
        assert.ok(!e.message.includes('s3cr3t!'));
        return true;
      });
      stub.setHandler(() => ({ status: 403, body: { errors: ['Forbidden: QUERY API methods are disabled'] } }));
      await assert.rejects(c().requestJson({ method: 'GET', path: '/x' }), (e: unknown) => e instanceof AuthenticationError && e.status === 403);
    });

    it('500 is retryable; HTML bodies give a text excerpt', async () => {
      stub.setHandler(() => ({ status: 500, body: { errors: ['Query exceeded limit of 1000 data points'] } }));
      await assert.rejects(c().requestJson({ method: 'GET', path: '/x' }), (e: unknown) => e instanceof HttpStatusError && e.status === 500 && e.retryable && /exceeded limit/.test(e.message));
      stub.setHandler(() => ({ status: 502, body: '<html><head><title>Bad Gateway</title></head><body><p>upstream down</p></body></html>' }));
      await assert.rejects(c().requestJson({ method: 'GET', path: '/x' }), (e: unknown) => {
        assert.ok(e instanceof HttpStatusError);
        assert.equal(e.retryable, true);
        assert.deepEqual(e.serverErrors, ['Bad Gateway upstream down']);
        return true;
      });
    });

    it('503 Retry-After in seconds and as an HTTP date', async () => {
      stub.setHandler(() => ({ status: 503, headers: { 'retry-after': '7' }, body: { errors: ['busy'] } }));
      await assert.rejects(c().requestJson({ method: 'GET', path: '/x' }), (e: unknown) => e instanceof HttpStatusError && e.retryAfterMs === 7000);
      const at = new Date(Date.now() + 30_000).toUTCString();
      stub.setHandler(() => ({ status: 503, headers: { 'retry-after': at } }));
      await assert.rejects(c().requestJson({ method: 'GET', path: '/x' }), (e: unknown) => {
        assert.ok(e instanceof HttpStatusError && e.retryAfterMs !== undefined);
        assert.ok(e.retryAfterMs > 25_000 && e.retryAfterMs <= 30_000, String(e.retryAfterMs));
        return true;
      });
    });

    it('unreadable JSON on success is a ParseError; accepted statuses and empty bodies pass', async () => {
      stub.setHandler(() => ({ body: '{"queries": [' }));
      await assert.rejects(c().requestJson({ method: 'GET', path: '/x' }), (e: unknown) => e instanceof ParseError && e.code === 'EPARSE');
      stub.setHandler(() => ({ status: 204 }));
      assert.equal(await c().requestJson({ method: 'POST', path: '/x', body: [] }, [204]), undefined);
    });

    it('sends string and Buffer bodies unchanged', async () => {
      await c().request({ method: 'POST', path: '/x', body: '[1,2]' });
      await c().request({ method: 'POST', path: '/x', body: gzipSync('abc'), headers: { 'Content-Type': 'application/gzip' } });
      assert.equal(stub.requests[0].text(), '[1,2]');
      assert.equal(stub.requests[1].headers['content-type'], 'application/gzip');
    });
  });
});
