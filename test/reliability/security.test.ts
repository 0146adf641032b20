/**
 * Security: configured secrets never show up anywhere a user, a log collector or a flow export could
 * see them; TLS is verified unless switched off (then a warning); admin endpoints need permission; a
 * message cannot send requests elsewhere; names are encoded where they enter URLs; a readable token
 * file gets a warning.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KairosConnector } from '../../src/kairos/connector';
import type { LocalServer } from '../../src/server/index';
import { TLS_CERT_FILE, TLS_KEY_FILE } from '../helpers/fixtures';
import { callsOf, collect, helper, kairos, until, type TestNode } from '../nodes/harness';
import { RedProcess } from './red-process';
import { cfg, sleep, builtNodes, useRuntime } from './support';

const TOKEN_ID = 'gateway-7';
const TOKEN_PW = 'Tr0ub4dor&3-secret';
const TOKEN = Buffer.from(`${TOKEN_ID}:${TOKEN_PW}`).toString('base64');
const ACCOUNT_PW = 'correct-horse-battery-staple';
const FILE_TOKEN = Buffer.from('file-id:file-token-pass-9876').toString('base64');

/** Every form a secret could leak in: as is, base64, URL-encoded, and the decoded halves of Basic tokens. */
function forms(secrets: string[]): string[] {
  const out = new Set<string>();
  for (const s of secrets) {
    out.add(s);
    out.add(Buffer.from(s).toString('base64'));
    out.add(encodeURIComponent(s));
    const decoded = Buffer.from(s, 'base64').toString('utf8');
    if (/^[\x20-\x7e]+:[\x20-\x7e]+$/.test(decoded)) {
      out.add(decoded);
      out.add(decoded.slice(decoded.indexOf(':') + 1));
    }
  }
  return [...out].filter((f) => f.length >= 6);
}

function assertNoSecrets(haystack: string, secrets: string[], where: string): void {
  for (const f of forms(secrets)) assert.ok(!haystack.includes(f), `${where} contains a secret (${f.slice(0, 3)}...)`);
}

/** A hostile server: every answer echoes the request's Authorization header, raw and decoded. */
async function echoServer(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(`${req.method} ${req.url}`);
      const auth = req.headers.authorization ?? '';
      const decoded = Buffer.from(auth.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
      const echo = `you sent ${auth} which is ${decoded}`;
      const path = req.url ?? '';
      if (path.startsWith('/api/v1/version')) return void res.writeHead(401, { 'content-type': 'text/html' }).end(`<html><body>${echo}</body></html>`);
      if (path.startsWith('/api/v1/datapoints/query')) return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [echo] }));
      if (path.startsWith('/api/v1/datapoints')) return void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [echo] }));
      if (path.startsWith('/api/v1/metricnames')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(`{"results": [${JSON.stringify(echo)}`);
      res.writeHead(403, { 'content-type': 'text/plain' }).end(echo);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('reliability: security', function () {
  this.timeout(30000);
  let server: LocalServer;

  const runtime = useRuntime({
    setup: async () => {
      server = await kairos({ token: TOKEN });
    },
    teardown: () => server.close(),
    unloadAfterEach: true,
  });

  /** Everything observable about the loaded nodes: spies on log/warn/error/status, sent messages. */
  function everything(ids: string[], sent: Array<Record<string, unknown>>): string {
    const parts: string[] = [];
    for (const id of ids) {
      const n = helper.getNode(id) as TestNode & Record<string, { getCalls(): Array<{ args: unknown[]; thisValue: unknown }> }>;
      for (const m of ['log', 'warn', 'error', 'status', 'debug', 'trace'] as const) {
        for (const c of n[m]?.getCalls?.() ?? []) {
          if (c.thisValue !== n) continue;
          for (const a of c.args) parts.push(a instanceof Error ? `${a.message}\n${a.stack}\n${JSON.stringify(a)}` : JSON.stringify(a));
        }
      }
    }
    parts.push(JSON.stringify(sent));
    return parts.join('\n');
  }

  for (const mode of ['token', 'account', 'tokenFile'] as const) {
    it(`${mode}: secrets never reach logs, status, errors, sent messages or admin answers, even when the server echoes them`, async function () {
      const echo = await echoServer();
      const tokenFile = join(runtime.userDir, `token-${mode}`);
      writeFileSync(tokenFile, FILE_TOKEN, { mode: 0o600 });
      const creds =
        mode === 'token' ? { token: TOKEN } : mode === 'account' ? { accountId: 'acct-42', password: ACCOUNT_PW } : { tokenFile };
      const secrets = [TOKEN, ACCOUNT_PW, FILE_TOKEN];
      try {
        await helper.load(
          builtNodes(),
          [
            cfg(echo.url, { authMode: mode, timeout: 0.5 }),
            { id: 'w', type: 'proficloud-write', server: 'cfg', maxDelay: 0.01, outbox: true, report: true, wires: [['out']] },
            { id: 'b', type: 'proficloud-batch', server: 'cfg', outbox: false, report: true, wires: [['out']] },
            { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'm', metricsType: 'str', start: '1h', startType: 'str', wires: [['out']] },
            { id: 's', type: 'proficloud-stream', server: 'cfg', metrics: 'm', interval: 100, window: '1m', autoStart: true, wires: [['out']] },
            { id: 'out', type: 'helper' },
          ],
          { cfg: creds },
        );
        const sent = collect(helper.getNode('out'));
        helper.getNode('w').receive({ topic: 'sec.w', payload: 1 });
        helper.getNode('b').receive({ payload: [{ Timestamp: Date.now(), 'sec.b': 1 }] });
        helper.getNode('q').receive({ payload: 'go' });
        helper.getNode('q').receive({ query: { start_absolute: 1, metrics: [{ name: 'm' }] } });
        await until(() => echo.hits.filter((h) => h === 'POST /api/v1/datapoints').length >= 2, 5000, 'writes reached the hostile server');
        await until(() => callsOf(helper.getNode('q'), 'error').length >= 2 && callsOf(helper.getNode('s'), 'error').length >= 1, 5000, 'errors reported');
        await sleep(200);
        // The admin endpoints answer with the server's echo in their error bodies.
        const names = await helper.request().get('/proficloud-ts/metricnames').query({ config: 'cfg' });
        const test = await helper.request().post('/proficloud-ts/test-connection').send({ id: 'cfg', service: 'kairosdb', urls: echo.url, authMode: mode, credentials: { ...creds, token: creds.token ? '__PWRD__' : undefined, password: 'password' in creds ? '__PWRD__' : undefined } });
        assert.equal((test.body as { ok: boolean }).ok, false);
        const all = everything(['cfg', 'w', 'b', 'q', 's'], sent) + names.text + test.text;
        // The hostile server really tried: its echo text is in what we captured, with the secrets blanked.
        assert.match(all, /you sent/);
        assertNoSecrets(all, secrets, `${mode}: captured output`);
      } finally {
        await echo.close();
      }
    });
  }

  it('library debug events (request/response dumps) carry no secret, even from an echoing server', async function () {
    const echo = await echoServer();
    const events: unknown[] = [];
    const c = new KairosConnector({ baseUrl: echo.url, token: TOKEN, onDebug: (e) => events.push(e) });
    try {
      await c.push([{ name: 'dbg', tags: { a: 'b' }, datapoints: [[1, 1]] }]).catch((e: Error) => events.push(e.message));
      await c.query({ metrics: 'dbg', startAbsolute: 1 }).catch((e: Error) => events.push(e.message));
      await c.version().catch((e: Error) => events.push(e.message));
      const text = JSON.stringify(events);
      assert.match(text, /you sent/);
      assert.equal(events.length, 6);
      assertNoSecrets(text, [TOKEN], 'debug events');
    } finally {
      await c.close();
      await echo.close();
    }
  });

  it('a token file readable by others gets a warning that names the file but not the token; 0600 gets none', async function () {
    const loose = join(runtime.userDir, 'loose-token');
    const tight = join(runtime.userDir, 'tight-token');
    writeFileSync(loose, TOKEN);
    chmodSync(loose, 0o644);
    writeFileSync(tight, TOKEN, { mode: 0o600 });
    for (const [file, warned] of [[loose, true], [tight, false]] as const) {
      await helper.load(builtNodes(), [cfg(server.url, { authMode: 'tokenFile' }), { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'm', metricsType: 'str', start: '1h', startType: 'str', wires: [[]] }], { cfg: { tokenFile: file } });
      const c = helper.getNode('cfg');
      await until(() => callsOf(helper.getNode('q'), 'status').some((s) => /connected/.test(String((s.args[0] as { text?: string }).text)) && !/connecting/.test(String((s.args[0] as { text?: string }).text))), 4000, 'connected');
      const warns = callsOf(c, 'warn').map((w) => String(w.args[0]));
      if (warned) assert.ok(warns.some((w) => w.includes(file) && /other users.*mode 644.*chmod 600/.test(w)), `warning expected, got ${warns.join(' | ')}`);
      else assert.deepEqual(warns.filter((w) => /other users/.test(w)), []);
      assertNoSecrets(warns.join('\n'), [TOKEN], 'token file warning');
      await helper.unload();
    }
  });

  describe('TLS', function () {
    let tlsServer: https.Server;
    let url: string;
    before(async function () {
      tlsServer = https.createServer({ key: readFileSync(TLS_KEY_FILE), cert: readFileSync(TLS_CERT_FILE) }, (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' }).end(req.url?.startsWith('/api/v1/version') ? '{"version":"KairosDB tls"}' : '{"queries":[{"sample_size":0,"results":[{"name":"m","tags":{},"values":[]}]}]}');
      });
      await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', () => r()));
      url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    });
    after(async function () {
      if (tlsServer) await new Promise<void>((r) => tlsServer.close(() => r()));
    });

    function flow(tlsVerify?: boolean): unknown[] {
      const c = cfg(url, tlsVerify === undefined ? {} : { tlsVerify });
      if (tlsVerify === undefined) delete c.tlsVerify;
      return [c, { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'm', metricsType: 'str', start: '1h', startType: 'str', wires: [['out']] }, { id: 'out', type: 'helper' }];
    }

    for (const setting of [undefined, true]) {
      it(`verification is on ${setting === undefined ? 'by default' : 'when switched on'}: a self-signed certificate is refused`, async function () {
        await helper.load(builtNodes(), flow(setting));
        const q = helper.getNode('q');
        q.receive({ payload: 1 });
        await until(() => callsOf(q, 'error').length === 1, 4000, 'TLS error');
        const err = callsOf(q, 'error')[0].args[0] as { code: string; message: string };
        assert.equal(err.code, 'ENETWORK');
        assert.match(err.message, /TLS failure talking to 127\.0\.0\.1:\d+/);
        assert.deepEqual(callsOf(helper.getNode('cfg'), 'warn').filter((w) => /verification/.test(String(w.args[0]))), []);
      });
    }

    it('switched off: the query works and the config node warns that connections can be intercepted', async function () {
      await helper.load(builtNodes(), flow(false));
      const out = collect(helper.getNode('out'));
      helper.getNode('q').receive({ payload: 1 });
      await until(() => out.length === 1, 4000, 'answer over unverified TLS');
      const warns = callsOf(helper.getNode('cfg'), 'warn').map((w) => String(w.args[0]));
      assert.ok(warns.some((w) => /TLS certificate verification is disabled/.test(w)), warns.join(' | '));
    });
  });

  it('a message cannot redirect requests: msg.url, msg.baseUrl, msg.server, msg.urls and hosts inside msg.query are ignored', async function () {
    const evil = await echoServer();
    try {
      await helper.load(
        builtNodes(),
        [
          cfg(server.url, { authMode: 'token' }),
          { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'redir.m', metricsType: 'str', start: '0', startType: 'str', wires: [['out']] },
          { id: 'w', type: 'proficloud-write', server: 'cfg', maxDelay: 0.01, outbox: false, report: true, wires: [['out']] },
          { id: 'b', type: 'proficloud-batch', server: 'cfg', outbox: false, report: true, wires: [['out']] },
          { id: 'out', type: 'helper' },
        ],
        { cfg: { token: TOKEN } },
      );
      const out = collect(helper.getNode('out'));
      const redirect = { url: `${evil.url}/api/v1/datapoints`, baseUrl: evil.url, server: evil.url, urls: evil.url, host: '127.0.0.1', port: 1 };
      helper.getNode('w').receive({ topic: 'redir.m', payload: 1, timestamp: 1000, ...redirect });
      helper.getNode('b').receive({ payload: [{ Timestamp: 2000, 'redir.m': 2 }], ...redirect });
      await until(() => out.length === 2, 4000, 'writes reported');
      helper.getNode('q').receive({ payload: 1, ...redirect });
      helper.getNode('q').receive({ ...redirect, query: { url: evil.url, host: evil.url, start_absolute: 1, metrics: [{ name: 'redir.m' }] } });
      await until(() => out.length === 4, 4000, 'query answers');
      assert.deepEqual(evil.hits, [], 'the other host got no request');
      const answers = out.slice(2).map((m) => (m.payload as unknown[]).length);
      assert.deepEqual(answers, [2, 2], 'both queries answered by the configured server');
      // Nodes keep no per-message connection state: the config node's URL is the only one used.
      assert.deepEqual(callsOf(helper.getNode('q'), 'error'), []);
    } finally {
      await evil.close();
    }
  });

  it('metric names and prefixes are percent-encoded wherever they enter a URL', async function () {
    const seen: string[] = [];
    const rec = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      req.resume();
      res.writeHead(req.method === 'DELETE' ? 204 : 200, { 'content-type': 'application/json' }).end(req.method === 'DELETE' ? undefined : '{"results":[]}');
    });
    await new Promise<void>((r) => rec.listen(0, '127.0.0.1', () => r()));
    const c = new KairosConnector({ baseUrl: `http://127.0.0.1:${(rec.address() as AddressInfo).port}/prefix` });
    try {
      const name = 'a/../../b c?x=1#frag&y=%2F';
      await c.deleteMetric(name);
      await c.metricNames(name);
      assert.equal(seen[0], `/prefix/api/v1/metric/${encodeURIComponent(name)}`);
      assert.ok(!seen[0].includes('/../'), 'no dot segments reach the server');
      const q = new URL(seen[1], 'http://x');
      assert.equal(q.pathname, '/prefix/api/v1/metricnames');
      assert.equal(q.searchParams.get('prefix'), name);
      assert.deepEqual([...q.searchParams.keys()], ['prefix'], 'the name cannot add query parameters');
    } finally {
      await c.close();
      await new Promise<void>((r) => rec.close(() => r()));
    }
  });

  describe('admin endpoints and flow export in a Node-RED runtime with adminAuth (child process)', function () {
    let red: RedProcess;
    let redDir: string;
    before(async function () {
      redDir = mkdtempSync(join(tmpdir(), 'rel-admin-'));
      // node-red depends on bcryptjs; adminAuth stores bcrypt hashes.
      const bcrypt = require('bcryptjs') as { hashSync(pw: string, rounds: number): string };
      const settings = {
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'admin', password: bcrypt.hashSync('admin-pass', 4), permissions: '*' },
            { username: 'viewer', password: bcrypt.hashSync('viewer-pass', 4), permissions: 'read' },
          ],
        },
      };
      const flows = [
        { id: 'tab', type: 'tab', label: 'sec' },
        { ...cfg(server.url, { authMode: 'token' }) },
        { id: 'w', z: 'tab', type: 'proficloud-write', server: 'cfg', outbox: false, wires: [] },
      ];
      red = await RedProcess.start(redDir, flows, { cfg: { token: TOKEN } }, settings);
    });
    after(async function () {
      await red?.stop();
      rmSync(redDir, { recursive: true, force: true });
    });

    async function token(username: string, password: string, scope = '*'): Promise<string> {
      const res = await fetch(`${red.adminUrl}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password }),
      });
      assert.equal(res.status, 200, 'login works');
      return ((await res.json()) as { access_token: string }).access_token;
    }

    it('without a token: 401 on test-connection, metricnames and /flows', async function () {
      const a = await fetch(`${red.adminUrl}/proficloud-ts/test-connection`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'cfg', urls: server.url, authMode: 'token', credentials: { token: '__PWRD__' } }) });
      const b = await fetch(`${red.adminUrl}/proficloud-ts/metricnames?config=cfg`);
      const c = await fetch(`${red.adminUrl}/flows`);
      assert.deepEqual([a.status, b.status, c.status], [401, 401, 401]);
    });

    it('a read-only user may list metric names but not run test-connection with stored credentials', async function () {
      const t = await token('viewer', 'viewer-pass', 'read');
      const names = await fetch(`${red.adminUrl}/proficloud-ts/metricnames?config=cfg`, { headers: { authorization: `Bearer ${t}` } });
      assert.equal(names.status, 200);
      const test = await fetch(`${red.adminUrl}/proficloud-ts/test-connection`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'cfg', urls: server.url, authMode: 'token', credentials: { token: '__PWRD__' } }) });
      assert.equal(test.status, 401);
    });

    it('an admin gets answers, and neither /flows nor the runtime log contains the token', async function () {
      const t = await token('admin', 'admin-pass');
      const test = await fetch(`${red.adminUrl}/proficloud-ts/test-connection`, { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'cfg', service: 'kairosdb', urls: server.url, authMode: 'token', credentials: { token: '__PWRD__' } }) });
      const body = (await test.json()) as { ok: boolean };
      assert.equal(body.ok, true, JSON.stringify(body));
      const flows = await fetch(`${red.adminUrl}/flows`, { headers: { authorization: `Bearer ${t}`, 'Node-RED-API-Version': 'v2' } });
      assert.equal(flows.status, 200);
      const text = await flows.text();
      assert.match(text, /proficloud-config/);
      assertNoSecrets(text, [TOKEN], '/flows export');
      assertNoSecrets(red.text(), [TOKEN], 'runtime log');
    });
  });
});
