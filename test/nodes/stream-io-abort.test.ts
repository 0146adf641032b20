/**
 * proficloud-stream against proficloud.io: closing the node aborts a data request in flight instead of
 * leaving it to run into the timeout. The fake service issues tokens and never answers /epts/data.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtNodes, helper, until, useNodeRed } from './harness';

const DEVICE = '6f1c2d3e-0000-4000-8000-000000000001';

describe('proficloud-stream on proficloud.io', function () {
  let server: Server;
  let url = '';
  let dataRequests = 0;
  let abortedAt: number | undefined;

  useNodeRed();
  beforeEach(async function () {
    dataRequests = 0;
    abortedAt = undefined;
    server = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/epts/token') {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'acc-token-123', expires_in: 300 }));
        return;
      }
      dataRequests++;
      // Hold the answer back; only the client giving up closes this response.
      res.on('close', () => {
        if (!res.writableEnded) abortedAt = performance.now();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async function () {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('close() aborts the poll waiting on /epts/data', async function () {
    await helper.load(
      builtNodes(),
      [
        // timeout 120 s, beyond the test's own: only the abort can end this request while the test runs
        { id: 'cfg', type: 'proficloud-config', service: 'io', environment: 'custom', urls: url, authMode: 'login', timeout: 120 },
        { id: 's', type: 'proficloud-stream', server: 'cfg', metrics: 'auto~flow', endpointIds: DEVICE, interval: 100, window: '1m', mode: 'incremental', output: 'rows', tsFormat: 'ms', autoStart: true, wires: [[]] },
      ],
      { cfg: { username: 'me@example.com', password: 'io-secret-pw' } },
    );
    await until(() => dataRequests === 1, 10_000, 'the first data request');
    await helper.unload();
    await until(() => abortedAt !== undefined, 10_000, 'the server to see the request aborted');
    assert.equal(dataRequests, 1, 'no retry after the abort');
  });
});
