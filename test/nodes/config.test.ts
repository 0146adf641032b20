import assert from 'node:assert/strict';
import type { LocalServer } from '../../src/server/index';
import { builtNodes, callsOf, configNode, helper, kairos, lastStatus, seed, until, useNodeRedAndKairos } from './harness';

describe('proficloud-config node', function () {
  const env = useNodeRedAndKairos();
  let secured: LocalServer;
  const TOKEN = 'c2VrcmV0LWlkOnNla3JldC1wdw==';

  before(async function () {
    secured = await kairos({ token: TOKEN });
  });
  after(async function () {
    await secured.close();
  });

  it('registers with the exact type name and pushes connected status to its user nodes', async function () {
    const flow = [
      configNode(env.server.url),
      { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'm1', metricsType: 'str', start: '1h', startType: 'str', output: 'rows', wires: [[]] },
      { id: 'w', type: 'proficloud-write', server: 'cfg', outbox: false, wires: [] },
    ];
    await helper.load(builtNodes(), flow);
    const q = helper.getNode('q');
    const w = helper.getNode('w');
    await until(() => lastStatus(q).text === 'node-red:common.status.connected' && lastStatus(w).text === 'node-red:common.status.connected', 4000, 'connected status');
    assert.equal(lastStatus(q).fill, 'green');
  });

  it('pushes a red status with the error code when the server cannot be reached', async function () {
    const flow = [configNode('http://127.0.0.1:1'), { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'm1', start: '1h', wires: [[]] }];
    await helper.load(builtNodes(), flow);
    const q = helper.getNode('q');
    await until(() => lastStatus(q).fill === 'red', 4000, 'red status');
    assert.equal(lastStatus(q).text, 'ENETWORK');
  });

  it('test-connection reports the server version for the editor form values', async function () {
    await helper.load(builtNodes(), [configNode(env.server.url)]);
    const res = await helper.request().post('/proficloud-ts/test-connection').send({ service: 'kairosdb', urls: env.server.url, authMode: 'none' });
    assert.equal(res.status, 200);
    const body = res.body as { ok: boolean; version?: string; health?: { ok: boolean } };
    assert.equal(body.ok, true);
    assert.match(String(body.version), /KairosDB/);
    assert.equal(body.health?.ok, true);
  });

  it('test-connection names the bad field and value', async function () {
    await helper.load(builtNodes(), [configNode(env.server.url)]);
    const res = await helper.request().post('/proficloud-ts/test-connection').send({ service: 'kairosdb', urls: 'ftp://nope', authMode: 'none' });
    const body = res.body as { ok: boolean; error: string; code: string };
    assert.equal(body.ok, false);
    assert.equal(body.code, 'EVALIDATION');
    assert.match(body.error, /urls.*ftp:\/\/nope/);
  });

  it('test-connection uses the stored token for __PWRD__ and never echoes a secret', async function () {
    await helper.load(builtNodes(), [configNode(secured.url, { authMode: 'token' })], { cfg: { token: TOKEN } });
    const good = await helper.request().post('/proficloud-ts/test-connection').send({ id: 'cfg', service: 'kairosdb', urls: secured.url, authMode: 'token', credentials: { token: '__PWRD__' } });
    assert.equal((good.body as { ok: boolean }).ok, true, JSON.stringify(good.body));
    const wrong = 'd3Jvbmc6d3JvbmctcGFzc3dvcmQ=';
    const bad = await helper.request().post('/proficloud-ts/test-connection').send({ service: 'kairosdb', urls: secured.url, authMode: 'token', credentials: { token: wrong } });
    const body = bad.body as { ok: boolean; code: string };
    assert.equal(body.ok, false);
    assert.equal(body.code, 'EAUTH');
    assert.ok(!bad.text.includes(wrong), 'secret echoed');
    assert.ok(!bad.text.includes(TOKEN), 'stored secret echoed');
  });

  it('test-connection with account id + password builds the Basic token and hides the password on failure', async function () {
    await helper.load(builtNodes(), [configNode(secured.url)]);
    const ok = await helper.request().post('/proficloud-ts/test-connection').send({ service: 'kairosdb', urls: secured.url, authMode: 'account', credentials: { accountId: 'sekret-id', password: 'sekret-pw' } });
    assert.equal((ok.body as { ok: boolean }).ok, true, JSON.stringify(ok.body));
    const bad = await helper.request().post('/proficloud-ts/test-connection').send({ service: 'kairosdb', urls: 'http://127.0.0.1:1', authMode: 'account', credentials: { accountId: 'x', password: 'hunter2-secret' } });
    assert.equal((bad.body as { ok: boolean }).ok, false);
    assert.ok(!bad.text.includes('hunter2-secret'));
  });

  it('metricnames lists names of the deployed config node, filtered by prefix', async function () {
    await seed(env.server.url, [
      { name: 'plant.temp', tags: { s: 'a' }, datapoints: [[1_700_000_000_000, 1]] },
      { name: 'plant.pressure', tags: { s: 'a' }, datapoints: [[1_700_000_000_000, 1]] },
      { name: 'other', tags: { s: 'a' }, datapoints: [[1_700_000_000_000, 1]] },
    ]);
    await helper.load(builtNodes(), [configNode(env.server.url)]);
    const res = await helper.request().get('/proficloud-ts/metricnames').query({ config: 'cfg', prefix: 'plant.' });
    assert.deepEqual([...(res.body as string[])].sort(), ['plant.pressure', 'plant.temp']);
    const missing = await helper.request().get('/proficloud-ts/metricnames').query({ config: 'nope' });
    assert.equal(missing.status, 404);
  });

  it('rejects a config with invalid default tags, naming the field', async function () {
    const flow = [configNode(env.server.url, { defaultTags: 'site' }), { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'm1', start: '1h', wires: [[]] }];
    await helper.load(builtNodes(), flow);
    const q = helper.getNode('q');
    await until(() => lastStatus(q).fill === 'red', 2000, 'red status');
    q.receive({ payload: 1 });
    await until(() => callsOf(q, 'error').length > 0, 2000, 'error');
    assert.match(String((callsOf(q, 'error')[0].args[0] as Error).message), /defaultTags.*"site"/);
  });
});
