// kairosdb-local stops although a client keeps sending on a keep-alive connection. Node's close() ends only the
// connections idle at that moment; one busy then stayed open as long as requests kept coming (seen as a hanging
// restart in the stream reliability test, whose producer pushes every 40 ms).
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer } from '../../src/server';
import { within } from '../helpers/within';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A push on `agent`; resolves with the status, or rejects (refused once the server is gone). */
function push(agent: http.Agent, url: URL, i: number, hold?: Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: '/api/v1/datapoints', method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    const body = JSON.stringify([{ name: 'busy', tags: { p: '1' }, datapoints: [[1_767_225_600_000 + i, i]] }]);
    if (!hold) {
      req.end(body);
      return;
    }
    // Half the body now, the rest once `hold` resolves: the request is in flight meanwhile.
    req.write(body.slice(0, 20));
    void hold.then(() => req.end(body.slice(20)));
  });
}

describe('server: close() under a busy keep-alive client', function () {
  this.timeout(60_000);

  it('finishes although a push is in flight at close() and more follow on the same connection', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', selfMetrics: false });
    const url = new URL(server.url);
    // One keep-alive connection for every push.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal(await push(agent, url, 0), 204);
      let release: () => void = () => undefined;
      const held = push(agent, url, 1, new Promise<void>((resolve) => (release = resolve)));
      await sleep(200); // the held push reaches the server, so its connection is busy when close() starts
      const closing = server.close();
      release();
      assert.equal(await held, 204, 'the push in flight at close() is still answered');

      // The client keeps pushing on its connection until it is refused.
      let answered = 0;
      let refused = false;
      const producer = (async () => {
        for (let i = 2; !refused && i < 10_000; i++) {
          try {
            await push(agent, url, i);
            answered++;
          } catch {
            refused = true;
          }
          await sleep(10);
        }
      })();
      try {
        await within(closing, 20_000, 'close() while a client keeps pushing on its keep-alive connection');
      } finally {
        refused = true;
        await producer;
      }
      assert.ok(answered <= 1, `${answered} pushes answered after close()`);
    } finally {
      agent.destroy();
    }
  });
});
