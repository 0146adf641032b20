import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthenticationError, HttpStatusError, KairosError, ParseError, ValidationError } from '../../src/errors';
import { ProficloudIOMetrics, parseSampleTimestamp, type ProficloudIOOptions } from '../../src/proficloud/proficloud-io';
import type { DebugEvent } from '../../src/types';

const USER = 'engineer@example.com';
const PASSWORD = 'Pr0fi-p4ss-w0rd';
const UUID1 = '6f1c0c4e-0000-4000-8000-000000000001';
const UUID2 = '6f1c0c4e-0000-4000-8000-000000000002';
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

interface DataCall {
  params: URLSearchParams;
  auth: string | undefined;
}

/** Plays /epts/token and /epts/data on 127.0.0.1. Tokens are access-N / refresh-N; unknown bearer tokens get 401. */
class FakeTsd {
  server!: Server;
  url = '';
  logins = 0;
  refreshes = 0;
  tokenBodies: Array<Record<string, string>> = [];
  data: DataCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  issued: string[] = [];
  valid = new Set<string>();
  expiresIn: number | undefined = 300;
  refreshExpiresIn: number | undefined = 1800;
  refreshStatus = 200;
  loginStatus = 200;
  dataStatus = 200;
  rejectAllTokens = false;
  dataBody: string | undefined;
  delayMs = 0;
  /** Answers for the next data requests, one each, before the normal behaviour: a status (with headers) or a dropped connection. */
  script: Array<{ status: number; headers?: Record<string, string> } | 'drop'> = [];
  /** Arrival time of each data request (performance.now()). */
  dataTimes: number[] = [];
  /** samples per (uuid, metric) for a data request */
  samples: (uuid: string, metric: string, from: number, to: number) => Array<{ timestamp: string; values: Record<string, unknown> }> = (
    _u,
    _m,
    from,
  ) => [{ timestamp: new Date(from).toISOString(), values: { value: 1 } }];

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private issue(res: ServerResponse): void {
    const n = this.issued.length + 1;
    const access = `access-${n}-${'x'.repeat(8)}`;
    this.issued.push(access);
    this.valid.add(access);
    const body: Record<string, unknown> = { access_token: access, refresh_token: `refresh-${n}-yyyyyyyy` };
    if (this.expiresIn !== undefined) body.expires_in = this.expiresIn;
    if (this.refreshExpiresIn !== undefined) body.refresh_expires_in = this.refreshExpiresIn;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/epts/token') {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>;
      this.tokenBodies.push(body);
      if (body.refresh_token !== undefined) {
        this.refreshes++;
        if (this.refreshStatus !== 200) {
          res.writeHead(this.refreshStatus, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
          return;
        }
        return this.issue(res);
      }
      this.logins++;
      if (this.loginStatus !== 200 || body.username !== USER || body.password !== PASSWORD) {
        // echo the password back, as a careless server might: it must still not reach our errors
        res.writeHead(this.loginStatus === 200 ? 401 : this.loginStatus, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_grant', detail: `bad password ${body.password}` }));
        return;
      }
      return this.issue(res);
    }
    if (req.method === 'GET' && url.pathname === '/epts/data') {
      this.data.push({ params: url.searchParams, auth: req.headers.authorization });
      this.dataTimes.push(performance.now());
      const scripted = this.script.shift();
      if (scripted === 'drop') {
        req.socket.destroy();
        return;
      }
      if (scripted) {
        res.writeHead(scripted.status, scripted.headers).end('slow down');
        return;
      }
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (this.rejectAllTokens || !this.valid.has(token)) {
        res.writeHead(401).end('token expired');
        return;
      }
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      this.inFlight--;
      if (this.dataStatus !== 200) {
        res.writeHead(this.dataStatus).end('upstream trouble');
        return;
      }
      if (this.dataBody !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(this.dataBody);
        return;
      }
      const uuid = url.searchParams.get('uuid') as string;
      const from = Date.parse(url.searchParams.get('fromDate') as string);
      const to = Date.parse(url.searchParams.get('toDate') as string);
      const out = (url.searchParams.get('timeSeriesName') as string)
        .split(',')
        .map((m) => ({ [uuid]: { [m]: this.samples(uuid, m, from, to) } }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      return;
    }
    res.writeHead(404).end();
  }
}

function checkNoSecrets(text: string, fake: FakeTsd): void {
  assert.ok(!text.includes(PASSWORD), `password leaked: ${text}`);
  for (const t of fake.issued) assert.ok(!text.includes(t), `access token leaked: ${text}`);
  assert.ok(!/refresh-\d+-y/.test(text), `refresh token leaked: ${text}`);
}

describe('proficloud.io client', () => {
  let fake: FakeTsd;
  let clock: number;
  let client: ProficloudIOMetrics | undefined;
  const make = (extra: Partial<ProficloudIOOptions> = {}): ProficloudIOMetrics => {
    client = new ProficloudIOMetrics({ baseUrl: fake.url, username: USER, password: PASSWORD, now: () => clock, timeoutMs: 5000, retryBaseMs: 1, ...extra });
    return client;
  };

  beforeEach(async () => {
    fake = new FakeTsd();
    await fake.start();
    clock = T0 + 10 * DAY;
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await fake.stop();
  });

  it('logs in, queries with a bearer token and normalises the samples', async () => {
    fake.samples = () => [
      { timestamp: '2024-01-01T00:00:01.250Z', values: { value: 21.7 } },
      { timestamp: '2024-01-01T00:00:02Z', values: { value: 21.8 } },
    ];
    const c = make();
    const resp = await c.query({ endpointIds: UUID1, metrics: ['auto~temperature', 'auto~pressure'], from: T0, to: T0 + 3600_000 });
    assert.equal(fake.logins, 1);
    assert.deepEqual(fake.tokenBodies[0], { username: USER, password: PASSWORD });
    assert.equal(fake.data.length, 1);
    const p = fake.data[0].params;
    assert.equal(p.get('uuid'), UUID1);
    assert.equal(p.get('timeSeriesName'), 'auto~temperature,auto~pressure');
    assert.equal(p.get('fromDate'), '2024-01-01T00:00:00.000Z');
    assert.equal(p.get('toDate'), '2024-01-01T01:00:00.000Z');
    assert.equal(p.get('sort'), 'ASC');
    assert.equal(fake.data[0].auth, `Bearer ${fake.issued[0]}`);
    assert.deepEqual(resp.queries[0], {
      sample_size: 2,
      results: [
        {
          name: 'auto~temperature',
          tags: { uuid: [UUID1] },
          values: [
            [Date.UTC(2024, 0, 1, 0, 0, 1, 250), 21.7],
            [Date.UTC(2024, 0, 1, 0, 0, 2), 21.8],
          ],
        },
      ],
    });
    const series = await c.querySeries({ endpointIds: [UUID1], metrics: ['auto~temperature', 'auto~pressure'], from: T0, to: T0 + 1000 });
    assert.deepEqual(
      series.map((s) => s.column),
      ['auto~temperature', 'auto~pressure'],
    );
    assert.equal(fake.logins, 1, 'token reused');
  });

  it('refreshes ~30 s before expiry and keeps the token until then', async () => {
    const c = make();
    const q = { endpointIds: UUID1, metrics: 'm', from: T0, to: T0 + 1000 };
    await c.query(q);
    clock += 300_000 - 31_000;
    await c.query(q);
    assert.equal(fake.refreshes, 0);
    clock += 2_000; // now 29 s before expiry
    await c.query(q);
    assert.equal(fake.logins, 1);
    assert.equal(fake.refreshes, 1);
    assert.deepEqual(fake.tokenBodies[1], { refresh_token: 'refresh-1-yyyyyyyy' });
    assert.equal(fake.data[2].auth, `Bearer ${fake.issued[1]}`);
  });

  it('logs in again when the refresh is refused, or the refresh token has expired', async () => {
    const c = make();
    const q = { endpointIds: UUID1, metrics: 'm', from: T0, to: T0 + 1000 };
    await c.query(q);
    fake.refreshStatus = 400;
    clock += 300_000;
    await c.query(q);
    assert.equal(fake.refreshes, 1);
    assert.equal(fake.logins, 2);
    assert.equal(fake.data.at(-1)?.auth, `Bearer ${fake.issued[1]}`);
    clock += 3_600_000; // refresh token (1800 s) expired too: straight to login
    await c.query(q);
    assert.equal(fake.refreshes, 1);
    assert.equal(fake.logins, 3);
  });

  it('on a 401 logs in again once and retries; a second 401 surfaces AuthenticationError without secrets', async () => {
    const c = make();
    const q = { endpointIds: UUID1, metrics: 'm', from: T0, to: T0 + 1000 };
    await c.query(q);
    fake.valid.clear(); // server revoked the token
    await c.query(q);
    assert.equal(fake.logins, 2);
    assert.equal(fake.data.length, 3);
    assert.equal(fake.data[2].auth, `Bearer ${fake.issued[1]}`);

    fake.rejectAllTokens = true;
    await assert.rejects(c.query(q), (e: unknown) => {
      assert.ok(e instanceof AuthenticationError, String(e));
      assert.equal(e.code, 'EAUTH');
      assert.equal(e.status, 401);
      checkNoSecrets(e.message, fake);
      return true;
    });
    assert.equal(fake.logins, 3, 'exactly one re-login');
    assert.equal(fake.data.length, 5, 'exactly one retry');
  });

  it('surfaces a refused login as AuthenticationError naming the user, never the password', async () => {
    const events: DebugEvent[] = [];
    const c = make({ password: PASSWORD + '-wrong', onDebug: (e) => events.push(e) });
    await assert.rejects(c.query({ endpointIds: UUID1, metrics: 'm', from: T0, to: T0 + 1000 }), (e: unknown) => {
      assert.ok(e instanceof AuthenticationError, String(e));
      assert.match(e.message, /proficloud\.io login as engineer@example\.com (was refused|failed)/);
      assert.ok(!e.message.includes(PASSWORD), e.message);
      assert.ok(!String(e.stack).includes(PASSWORD));
      return true;
    });
    assert.equal(fake.logins, 1);
    assert.equal(fake.data.length, 0);
    assert.ok(events.length >= 1);
    assert.ok(!JSON.stringify(events).includes(PASSWORD), JSON.stringify(events));
  });

  it('keeps tokens and password out of debug events', async () => {
    const events: DebugEvent[] = [];
    const c = make({ onDebug: (e) => events.push(e) });
    await c.query({ endpointIds: UUID1, metrics: 'm', from: T0, to: T0 + 1000 });
    clock += 300_000;
    await c.query({ endpointIds: UUID1, metrics: 'm', from: T0, to: T0 + 1000 });
    assert.equal(fake.refreshes, 1);
    assert.ok(events.length >= 4);
    const text = JSON.stringify(events);
    checkNoSecrets(text, fake);
    assert.ok(text.includes('"access_token\\":\\"***\\"') || text.includes('***'), text);
  });

  it('splits long ranges into day windows sent one after another, keeping boundary points once', async () => {
    // each window returns its first and last instant: neighbouring windows share one point
    fake.samples = (_u, _m, from, to) => [
      { timestamp: new Date(from).toISOString(), values: { value: from } },
      { timestamp: new Date(to).toISOString(), values: { value: to } },
    ];
    fake.delayMs = 5;
    const c = make();
    const to = T0 + 2 * DAY + 12 * 3600_000;
    const resp = await c.query({ endpointIds: UUID1, metrics: 'm', from: '2024-01-01T00:00:00Z', to });
    assert.deepEqual(
      fake.data.map((d) => [d.params.get('fromDate'), d.params.get('toDate')]),
      [
        ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z'],
        ['2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z'],
        ['2024-01-03T00:00:00.000Z', '2024-01-03T12:00:00.000Z'],
      ],
    );
    assert.equal(fake.maxInFlight, 1, 'sequential');
    assert.deepEqual(
      resp.queries[0].results[0].values.map((v) => v[0]),
      [T0, T0 + DAY, T0 + 2 * DAY, to],
    );

    fake.data = [];
    const desc = await c.query({ endpointIds: UUID1, metrics: 'm', from: T0, to, sort: 'desc' as 'DESC' });
    assert.deepEqual(
      fake.data.map((d) => [d.params.get('fromDate'), d.params.get('sort')]),
      [
        ['2024-01-03T00:00:00.000Z', 'DESC'],
        ['2024-01-02T00:00:00.000Z', 'DESC'],
        ['2024-01-01T00:00:00.000Z', 'DESC'],
      ],
    );
    fake.samples = (_u, _m, from, wTo) => [
      { timestamp: new Date(wTo).toISOString(), values: { value: wTo } },
      { timestamp: new Date(from).toISOString(), values: { value: from } },
    ];
    const desc2 = await c.query({ endpointIds: UUID1, metrics: 'm', from: T0, to, sort: 'DESC' });
    assert.deepEqual(
      desc2.queries[0].results[0].values.map((v) => v[0]),
      [to, T0 + 2 * DAY, T0 + DAY, T0],
    );
    assert.ok(desc.queries[0].results[0].values.length > 0);
  });

  it('names columns by uuid for several endpoints and builds rows', async () => {
    fake.samples = (uuid, metric, from) => [{ timestamp: new Date(from).toISOString(), values: { value: uuid === UUID1 ? 1 : 2 } }].filter(() => metric === 'm');
    const c = make();
    const rows = await c.queryRows({ endpointIds: [UUID1, UUID2], metrics: ['m', 'empty'], from: T0, to: T0 + 1000, convertTimestamp: 'iso' });
    assert.deepEqual(rows, [{ Timestamp: '2024-01-01T00:00:00.000Z', [`m{uuid=${UUID1}}`]: 1, [`m{uuid=${UUID2}}`]: 2 }]);
    assert.deepEqual(
      fake.data.map((d) => d.params.get('uuid')),
      [UUID1, UUID2],
    );
    const resp = await c.query({ endpointIds: [UUID1, UUID2], metrics: ['m', 'empty'], from: T0, to: T0 + 1000 });
    assert.deepEqual(resp.queries[1], { sample_size: 0, results: [{ name: 'empty', tags: {}, values: [] }] });
  });

  it('reads value shapes: booleans, strings, nulls and several value fields', async () => {
    fake.dataBody = JSON.stringify([
      {
        [UUID1]: {
          m: [
            { timestamp: '2024-01-01T00:00:00Z', values: { value: true } },
            { timestamp: '2024-01-01T00:00:01Z', values: { value: 'on' } },
            { timestamp: '2024-01-01T00:00:02Z', values: { value: null } },
            { timestamp: '2024-01-01T00:00:03Z', values: { x: 5 } },
            { timestamp: '2024-01-01T00:00:04Z', values: { x: 5, y: 6 } },
          ],
        },
      },
    ]);
    const resp = await make().query({ endpointIds: UUID1, metrics: 'm', from: T0, to: T0 + 10_000 });
    assert.deepEqual(
      resp.queries[0].results[0].values.map((v) => v[1]),
      [1, 'on', null, 5, '{"x":5,"y":6}'],
    );
  });

  it('maps server trouble to typed errors', async () => {
    const q = { endpointIds: UUID1, metrics: 'm', from: T0, to: T0 + 1000 };
    fake.dataStatus = 503;
    await assert.rejects(make().query(q), (e: unknown) => e instanceof HttpStatusError && e.status === 503 && e.retryable);
    assert.equal(fake.data.length, 4, 'a lasting 503 is tried 1 + 3 (default retries) times');
    await client?.close();
    fake.dataStatus = 200;
    fake.dataBody = '<html>not json';
    await assert.rejects(make().query(q), ParseError);
    await client?.close();
    fake.dataBody = JSON.stringify([{ [UUID1]: { m: [{ timestamp: 'yesterday', values: { value: 1 } }] } }]);
    await assert.rejects(make().query(q), /unreadable sample timestamp "yesterday"/);
    await client?.close();
    fake.dataBody = '42';
    await assert.rejects(make().query(q), /expected a JSON array/);
    await client?.close();
    fake.dataBody = undefined;
    fake.expiresIn = undefined;
    fake.logins = 0;
    fake.refreshes = 0;
    const c = make();
    await c.query(q);
    await c.query(q);
    assert.equal(fake.logins + fake.refreshes, 1, 'missing expires_in: token still reused briefly');
  });

  describe('retries', () => {
    const q = { endpointIds: UUID1, metrics: 'm', from: T0, to: T0 + 1000 };
    /** The pauses the client chose, read from its debug log ("retry n of m in N ms"): exact, however busy the machine. */
    const pauses = (): { pauses: number[]; logger: { warn: () => void; debug: (m: string) => void } } => {
      const chosen: number[] = [];
      return {
        pauses: chosen,
        logger: {
          warn: () => undefined,
          debug: (m: string) => {
            const hit = / in (\d+) ms$/.exec(m);
            if (hit) chosen.push(Number(hit[1]));
          },
        },
      };
    };

    it('retries 503 (honouring Retry-After) and 429, then returns the data', async () => {
      fake.script = [{ status: 503, headers: { 'retry-after': '1' } }, { status: 429 }];
      const log = pauses();
      const resp = await make({ logger: log.logger }).query(q);
      assert.equal(fake.data.length, 3);
      assert.deepEqual(resp.queries[0].results[0].values, [[T0, 1]]);
      // retryBaseMs is 1 ms: only Retry-After can explain a pause of a second
      assert.equal(log.pauses[0], 1000, 'Retry-After: 1 honoured');
      assert.ok(log.pauses[1] <= 2, `the 429 without Retry-After is retried after the short backoff (${log.pauses[1]} ms)`);
      const gap = fake.dataTimes[1] - fake.dataTimes[0];
      assert.ok(gap >= 950, `the client really waited (${Math.round(gap)} ms)`);
      assert.equal(fake.logins, 1, 'retries reuse the token');
    });

    it('backs off exponentially with jitter and gives up after `retries`', async () => {
      fake.dataStatus = 502;
      const log = pauses();
      const c = make({ retries: 3, retryBaseMs: 40, random: () => 0.99, logger: log.logger });
      await assert.rejects(c.query(q), (e: unknown) => e instanceof HttpStatusError && e.status === 502);
      assert.equal(fake.data.length, 4);
      const gaps = fake.dataTimes.slice(1).map((t, i) => t - fake.dataTimes[i]);
      // jitter 0.99 -> 99.5 % of 40, 80, 160 ms
      [40, 80, 160].forEach((base, i) => assert.ok(gaps[i] >= base * 0.99 - 5, `gap ${i + 1} ${Math.round(gaps[i])} ms >= ~${base} ms`));
      // jitter 0.99 -> 99.5 % of 40, 80 and 160 ms, rounded
      assert.deepEqual(log.pauses, [40, 80, 159], 'the pause doubles');

      await c.close();
      fake.data = [];
      fake.dataTimes = [];
      const lowLog = pauses();
      const lowJitter = make({ retries: 1, retryBaseMs: 200, random: () => 0, logger: lowLog.logger });
      await assert.rejects(lowJitter.query(q), HttpStatusError);
      assert.deepEqual(lowLog.pauses, [100], 'jitter shortens to 50 %');
      const gap = fake.dataTimes[1] - fake.dataTimes[0];
      assert.ok(gap >= 95, `the client really waited (${Math.round(gap)} ms)`);
    });

    it('retries a dropped connection', async () => {
      fake.script = ['drop'];
      const resp = await make().query(q);
      assert.equal(fake.data.length, 2);
      assert.equal(resp.queries[0].sample_size, 1);
    });

    it('never retries other 4xx, 500 or auth failures (beyond the one fresh login)', async () => {
      for (const status of [400, 404, 500]) {
        fake.data = [];
        fake.script = [{ status }];
        await assert.rejects(make().query(q), (e: unknown) => e instanceof HttpStatusError && e.status === status);
        assert.equal(fake.data.length, 1, `HTTP ${status} is sent once`);
        await client?.close();
      }
      fake.data = [];
      fake.rejectAllTokens = true;
      fake.logins = 0;
      await assert.rejects(make().query(q), AuthenticationError);
      assert.equal(fake.data.length, 2, 'a 401 gets one fresh login, no backoff retries');
      assert.equal(fake.logins, 2);
    });

    it('retries: 0 sends once', async () => {
      fake.script = [{ status: 503 }];
      await assert.rejects(make({ retries: 0 }).query(q), HttpStatusError);
      assert.equal(fake.data.length, 1);
    });

    it('an abort during the backoff pause rejects at once with the reason', async () => {
      fake.script = [{ status: 503, headers: { 'retry-after': '3600' } }];
      const ac = new AbortController();
      const reason = new Error('stopped by test');
      const pending = make().querySeries(q, ac.signal);
      while (fake.data.length === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 30));
      ac.abort(reason);
      // The pause is 30 s (Retry-After capped), beyond the test's timeout: rejecting at all means it ended at the abort.
      await assert.rejects(pending, (e: unknown) => e === reason);
      assert.equal(fake.data.length, 1);
    });

    it('an abort cancels the request in flight; an aborted signal sends nothing', async () => {
      fake.delayMs = 3000;
      const ac = new AbortController();
      const reason = new Error('closing');
      const pending = make().queryRows(q, ac.signal);
      while (fake.data.length === 0) await new Promise((r) => setTimeout(r, 5));
      ac.abort(reason);
      // A request left to run would answer after 3 s and resolve; the abort's reason shows it was cut off.
      await assert.rejects(pending, (e: unknown) => e === reason);
      assert.equal(fake.data.length, 1, 'not retried after the abort');

      fake.delayMs = 0;
      fake.data = [];
      await client?.close();
      await assert.rejects(make().query(q, AbortSignal.abort(reason)), (e: unknown) => e === reason);
      assert.equal(fake.data.length, 0);
    });
  });

  it('validates its options and queries, never echoing the password', async () => {
    const base = { baseUrl: 'http://127.0.0.1:1', username: USER, password: PASSWORD };
    const badCtor: Array<[object, string]> = [
      [{ ...base, username: '' }, 'username'],
      [{ ...base, password: '' }, 'password'],
      [{ ...base, password: 12345678 }, 'password'],
      [{ ...base, environment: 'test' }, 'environment'],
      [{ ...base, baseUrl: 'ftp://x' }, 'baseUrls[0]'],
      [{ ...base, windowMs: 0 }, 'windowMs'],
      [{ ...base, retries: -1 }, 'retries'],
      [{ ...base, retries: 1.5 }, 'retries'],
      [{ ...base, retries: 11 }, 'retries'],
      [{ ...base, retryBaseMs: '500' }, 'retryBaseMs'],
      [{ ...base, retryBaseMs: 60_000 }, 'retryBaseMs'],
    ];
    for (const [opts, field] of badCtor) {
      assert.throws(
        () => new ProficloudIOMetrics(opts as ProficloudIOOptions),
        (e: unknown) => e instanceof ValidationError && e.field === field && !e.message.includes(PASSWORD) && !e.message.includes('12345678'),
        field,
      );
    }
    const c = make();
    const badQ: Array<[object, string]> = [
      [{ endpointIds: [], metrics: 'm', from: T0 }, 'endpointIds'],
      [{ endpointIds: [''], metrics: 'm', from: T0 }, 'endpointIds[0]'],
      [{ endpointIds: UUID1, metrics: 'a,b', from: T0 }, 'metrics[0]'],
      [{ endpointIds: UUID1, metrics: ['a', 'a'], from: T0 }, 'metrics'],
      [{ endpointIds: UUID1, metrics: 'm', from: 'someday' }, 'from'],
      [{ endpointIds: UUID1, metrics: 'm', from: T0, to: NaN }, 'to'],
      [{ endpointIds: UUID1, metrics: 'm', from: T0, to: T0 - 1 }, 'to'],
      [{ endpointIds: UUID1, metrics: 'm', from: T0, sort: 'UP' }, 'sort'],
      [{ endpointIds: UUID1, metrics: 'm', from: 0, to: 253402300799999 }, 'to'],
    ];
    for (const [q, field] of badQ) {
      await assert.rejects(
        c.query(q as never),
        (e: unknown) => e instanceof ValidationError && e.field === field,
        field,
      );
    }
    assert.equal(fake.logins, 0, 'bad input is refused before any request');
    assert.ok(new ProficloudIOMetrics({ username: USER, password: PASSWORD, environment: 'staging' }).baseUrl.includes('proficloud-staging.io'));
  });

  it('parses sample timestamps with and without fractions', () => {
    assert.equal(parseSampleTimestamp('2023-05-04T00:00:01.250Z'), Date.UTC(2023, 4, 4, 0, 0, 1, 250));
    assert.equal(parseSampleTimestamp('2023-05-04T00:00:01Z'), Date.UTC(2023, 4, 4, 0, 0, 1));
    assert.equal(parseSampleTimestamp('2023-05-04T00:00:01.123456Z'), Date.UTC(2023, 4, 4, 0, 0, 1, 123));
    assert.equal(parseSampleTimestamp('2023-05-04T02:00:01+02:00'), Date.UTC(2023, 4, 4, 0, 0, 1));
    assert.equal(parseSampleTimestamp(1683158401000), 1683158401000);
    assert.throws(() => parseSampleTimestamp(undefined), (e: unknown) => e instanceof KairosError && e.code === 'EPARSE');
  });
});
