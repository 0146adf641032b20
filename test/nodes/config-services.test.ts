// proficloud-config beyond the basics: ${ENV_VAR} in properties and credentials, Test connection for
// every service, proxy / gzip / tls-config settings reaching the HTTP client, and the stream node
// polling proficloud.io by device UUID (the seed's MetricsStreamIO). All on 127.0.0.1.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, type LocalServer } from '../../src/server/index';
import { TLS_CERT_FILE, TLS_KEY_FILE } from '../helpers/fixtures';
import { defaultHandler, startForwardProxy, startStub } from '../helpers/kairos-stub';
import { nodeRedRequire } from '../helpers/node-red-module';
import { builtNodes, callsOf, cleanUserDir, collect, configNode, errorsOf, helper, kairos, lastStatus, seed, startHelper, stopHelper, until } from './harness';

const TOKEN = Buffer.from('env-id:env-pw').toString('base64');
const DEVICE = '6f1c0a4e-1111-4222-8333-944455556666';
const CONNECTED = 'node-red:common.status.connected';

interface TestAnswer {
  ok: boolean;
  service?: string;
  version?: string;
  error?: string;
  code?: string;
}

describe('proficloud-config: environment variables, services, transport settings', function () {
  let secured: LocalServer;
  let io: LocalServer;
  const envSet: string[] = [];
  const setEnv = (name: string, value: string): void => {
    process.env[name] = value;
    envSet.push(name);
  };

  before(async function () {
    await startHelper();
    secured = await kairos({ token: TOKEN });
    io = await startServer({ port: 0, host: '127.0.0.1', selfMetrics: false, oauth: { username: 'me@example.com', password: 'io-secret-pw' } });
  });
  after(async function () {
    await secured.close();
    await io.close();
    await stopHelper();
    cleanUserDir();
  });
  afterEach(async function () {
    await helper.unload();
    for (const name of envSet.splice(0)) delete process.env[name];
  });

  const testConnection = async (body: Record<string, unknown>): Promise<{ answer: TestAnswer; text: string }> => {
    const res = await helper.request().post('/proficloud-ts/test-connection').send(body);
    assert.equal(res.status, 200);
    return { answer: res.body as TestAnswer, text: res.text };
  };

  describe('${ENV_VAR}', function () {
    it('works in a property (Node-RED) and in a credential (the config node) of a deployed config', async function () {
      setEnv('PCT_URL', secured.url);
      setEnv('PCT_TOKEN', TOKEN);
      const flow = [
        configNode('${PCT_URL}', { authMode: 'token' }),
        { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'env.m', metricsType: 'str', start: '1h', startType: 'str', output: 'rows', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await helper.load(builtNodes(), flow, { cfg: { token: '${PCT_TOKEN}' } });
      const q = helper.getNode('q');
      // The secured server answers /version only with the right token, so "connected" proves both.
      await until(() => lastStatus(q).text === CONNECTED, 4000, 'connected through env URL and env token');
      const got = collect(helper.getNode('out'));
      q.receive({});
      await until(() => got.length === 1 || callsOf(q, 'error').length > 0, 4000, 'query answer');
      assert.deepEqual(errorsOf(q), []);
      assert.deepEqual(got[0].payload, []);
    });

    it('an unset variable in a credential is an error naming the field and the reference', async function () {
      const flow = [configNode(secured.url, { authMode: 'token' }), { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'env.m', metricsType: 'str', start: '1h', startType: 'str', wires: [[]] }];
      await helper.load(builtNodes(), flow, { cfg: { token: '${PCT_NOT_SET}' } });
      const q = helper.getNode('q');
      q.receive({});
      await until(() => callsOf(q, 'error').length === 1, 4000, 'error');
      assert.match(errorsOf(q)[0], /^token: refers to environment variable PCT_NOT_SET, which is not set \(got "\$\{PCT_NOT_SET\}"\)/);
    });

    it('Test connection resolves ${ENV_VAR} in the form and its credentials, and names an unset one', async function () {
      await helper.load(builtNodes(), [configNode(secured.url)]);
      setEnv('PCT_URL', secured.url);
      setEnv('PCT_ID', 'env-id');
      setEnv('PCT_PW', 'env-pw');
      const good = await testConnection({ service: 'kairosdb', urls: '${PCT_URL}', authMode: 'account', credentials: { accountId: '${PCT_ID}', password: '${PCT_PW}' } });
      assert.equal(good.answer.ok, true, good.text);
      const bad = await testConnection({ service: 'kairosdb', urls: '${PCT_NOPE}', authMode: 'none' });
      assert.equal(bad.answer.ok, false);
      assert.equal(bad.answer.code, 'EVALIDATION');
      assert.match(String(bad.answer.error), /urls.*PCT_NOPE.*not set/);
    });
  });

  describe('Test connection for each service', function () {
    beforeEach(async function () {
      await helper.load(builtNodes(), [configNode(secured.url)]);
    });

    it('Proficloud TSD: a tiny query (its /version is locked); a wrong token is EAUTH without the token', async function () {
      // The hosted TSD answers queries below /ds/v1/kairos/ at .../query/ (trailing slash) and locks /version.
      const tsd = await startStub((req) => {
        if (req.headers.authorization !== `Basic ${TOKEN}`) return { status: 401, body: 'Unauthorized' };
        if (req.path.endsWith('/version')) return { status: 403 };
        return defaultHandler(req);
      });
      try {
        const urls = `${tsd.url}/ds/v1/kairos/`;
        const good = await testConnection({ service: 'tsd', environment: 'custom', urls, authMode: 'token', credentials: { token: TOKEN } });
        assert.deepEqual([good.answer.ok, good.answer.service, good.answer.version], [true, 'tsd', undefined], good.text);
        assert.deepEqual(tsd.requests.map((r) => [r.method, r.path]), [['POST', '/ds/v1/kairos/api/v1/datapoints/query/']]);
        const wrong = Buffer.from('env-id:wrong-pw').toString('base64');
        const bad = await testConnection({ service: 'tsd', environment: 'custom', urls, authMode: 'token', credentials: { token: wrong } });
        assert.equal(bad.answer.ok, false);
        assert.equal(bad.answer.code, 'EAUTH');
        assert.ok(!bad.text.includes(wrong) && !bad.text.includes('wrong-pw'), bad.text);
      } finally {
        await tsd.close();
      }
    });

    it('Proficloud EWIMA: the server version; missing credentials name the auth mode', async function () {
      const good = await testConnection({ service: 'ewima', environment: 'custom', urls: secured.url, authMode: 'account', credentials: { accountId: 'env-id', password: 'env-pw' } });
      assert.deepEqual([good.answer.ok, good.answer.service], [true, 'ewima'], good.text);
      assert.match(String(good.answer.version), /KairosDB/);
      const none = await testConnection({ service: 'ewima', environment: 'custom', urls: secured.url, authMode: 'none' });
      assert.equal(none.answer.ok, false);
      assert.match(String(none.answer.error), /authMode/);
    });

    it('proficloud.io: a login; a wrong password is EAUTH and never echoed', async function () {
      const good = await testConnection({ service: 'io', environment: 'custom', urls: io.url, authMode: 'login', credentials: { username: 'me@example.com', password: 'io-secret-pw' } });
      assert.deepEqual([good.answer.ok, good.answer.service], [true, 'io'], good.text);
      const bad = await testConnection({ service: 'io', environment: 'custom', urls: io.url, authMode: 'login', credentials: { username: 'me@example.com', password: 'not-the-pw-123' } });
      assert.equal(bad.answer.ok, false);
      assert.equal(bad.answer.code, 'EAUTH');
      assert.ok(!bad.text.includes('not-the-pw-123'));
    });

    it('generic KairosDB: a closed port is the exact network error', async function () {
      const bad = await testConnection({ service: 'kairosdb', urls: 'http://127.0.0.1:1', authMode: 'none' });
      assert.equal(bad.answer.ok, false);
      assert.equal(bad.answer.code, 'ENETWORK');
      assert.match(String(bad.answer.error), /127\.0\.0\.1:1/);
    });
  });

  describe('transport settings reach the HTTP client', function () {
    it('proxy: an explicit URL carries every request, "none" bypasses it', async function () {
      const proxy = await startForwardProxy();
      const target = await kairos();
      try {
        const flow = (proxyMode: string) => [
          configNode(target.url, { proxyMode, proxyUrl: proxy.url }),
          { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'px.m', metricsType: 'str', start: '1h', startType: 'str', wires: [['out']] },
          { id: 'out', type: 'helper' },
        ];
        await helper.load(builtNodes(), flow('url'));
        let got = collect(helper.getNode('out'));
        helper.getNode('q').receive({});
        await until(() => got.length === 1, 4000, 'query through the proxy');
        assert.ok(proxy.forwarded.some((u) => u === `${target.url}/api/v1/datapoints/query`), JSON.stringify(proxy.forwarded));
        await helper.unload();
        const before = proxy.forwarded.length;
        await helper.load(builtNodes(), flow('none'));
        got = collect(helper.getNode('out'));
        helper.getNode('q').receive({});
        await until(() => got.length === 1, 4000, 'direct query');
        assert.equal(proxy.forwarded.length, before);
      } finally {
        await proxy.close();
        await target.close();
      }
    });

    it('gzip: large write bodies are compressed when on, never when off', async function () {
      const stub = await startStub();
      try {
        const big: Record<string, number> = {};
        for (let i = 0; i < 60; i++) big[`gzip.metric.with.a.long.name.${i}`] = i + 0.5;
        for (const gzip of [true, false]) {
          await helper.load(builtNodes(), [configNode(stub.url, { gzip }), { id: 'w', type: 'proficloud-write', server: 'cfg', maxBatchPoints: 1000, maxDelay: 0.02, outbox: false, report: false, outputs: 0, wires: [] }]);
          const w = helper.getNode('w');
          const start = stub.requests.length;
          w.receive({ payload: big, tags: { h: 'x' } });
          await until(() => stub.requests.slice(start).some((r) => r.path === '/api/v1/datapoints'), 4000, 'push');
          const pushReq = stub.requests.slice(start).find((r) => r.path === '/api/v1/datapoints')!;
          assert.ok(pushReq.body.length > 1024, 'the body is above the threshold');
          assert.equal(pushReq.headers['content-encoding'], gzip ? 'gzip' : undefined, `gzip ${gzip}`);
          assert.equal((pushReq.json() as unknown[]).length, 60);
          await helper.unload();
        }
      } finally {
        await stub.close();
      }
    });

    describe('TLS with a tls-config node', function () {
      it("trusts the tls-config node's CA; without it the self-signed server is refused", async function () {
        const stub = await startStub(undefined, { key: readFileSync(TLS_KEY_FILE, 'utf8'), cert: readFileSync(TLS_CERT_FILE, 'utf8') });
        const tlsNode = nodeRedRequire('@node-red/nodes/core/network/05-tls.js') as unknown;
        try {
          const query = { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'tls.m', metricsType: 'str', start: '1h', startType: 'str', wires: [[]] };
          await helper.load([tlsNode, ...builtNodes()], [
            { id: 'tls', type: 'tls-config', name: 'ca', cert: '', key: '', ca: TLS_CERT_FILE, verifyservercert: true },
            configNode(stub.url, { tls: 'tls' }),
            query,
          ]);
          await until(() => lastStatus(helper.getNode('q')).text === CONNECTED, 4000, 'connected with the custom CA');
          await helper.unload();
          await helper.load(builtNodes(), [configNode(stub.url), query]);
          await until(() => lastStatus(helper.getNode('q')).fill === 'red', 4000, 'refused without the CA');
        } finally {
          await stub.close();
        }
      });
    });
  });

  it('stream node polls proficloud.io for its device UUIDs and emits each point once', async function () {
    const t = Date.now() - 5000;
    await seed(io.url, [{ name: 'auto~flow', tags: { uuid: DEVICE }, datapoints: [[t, 1.5], [t + 1000, 2.5]] }]);
    await helper.load(builtNodes(), [
      { id: 'cfg', type: 'proficloud-config', service: 'io', environment: 'custom', urls: io.url, authMode: 'login' },
      { id: 's', type: 'proficloud-stream', server: 'cfg', metrics: 'auto~flow', endpointIds: DEVICE, interval: 100, window: '1m', mode: 'incremental', output: 'rows', tsFormat: 'ms', autoStart: true, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ], { cfg: { username: 'me@example.com', password: 'io-secret-pw' } });
    const got = collect(helper.getNode('out'));
    await until(() => got.length >= 1, 4000, 'first poll');
    const rows = got.flatMap((m) => m.payload as Array<Record<string, unknown>>);
    assert.deepEqual(rows.map((r) => [r.Timestamp, Object.values(r)[1]]), [[t, 1.5], [t + 1000, 2.5]]);
    await seed(io.url, [{ name: 'auto~flow', tags: { uuid: DEVICE }, datapoints: [[t + 2000, 3.5]] }]);
    await until(() => got.flatMap((m) => m.payload as unknown[]).length === 3, 4000, 'the new point');
    await new Promise((r) => setTimeout(r, 300));
    const all = got.flatMap((m) => m.payload as Array<Record<string, unknown>>).map((r) => r.Timestamp);
    assert.deepEqual(all, [t, t + 1000, t + 2000], 'each point once');
    assert.deepEqual(errorsOf(helper.getNode('s')), []);
  });
});
