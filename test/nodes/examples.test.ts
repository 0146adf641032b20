/**
 * The importable example flows: valid JSON arrays that deploy (our nodes plus core nodes only) and,
 * for the end-to-end flow, actually move data: simulated PLC -> write -> server -> stream.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_RED_CORE_NODES } from '../helpers/node-red-module';
import { builtNodes, helper, readBack, until, useNodeRedAndKairos } from './harness';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const CORE = NODE_RED_CORE_NODES;
const coreNodes = ['common/20-inject.js', 'common/21-debug.js', 'common/90-comment.js', 'function/10-function.js', 'function/15-change.js', 'sequence/17-split.js'].map((p) => require(join(CORE, p)));
const CORE_TYPES = new Set(['tab', 'inject', 'debug', 'comment', 'function', 'change', 'join']);

type FlowNode = Record<string, unknown> & { id: string; type: string };

function readExample(file: string): FlowNode[] {
  return JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as FlowNode[];
}

/** Points the example's config node at the test server and gives the flow a tab the helper can start. */
function deployable(flow: FlowNode[], url: string): FlowNode[] {
  const out = flow.map((n) => ({ ...n }));
  for (const n of out) if (n.type === 'proficloud-config') n.urls = url;
  if (!out.some((n) => n.type === 'tab')) {
    out.unshift({ id: 'ex.tab', type: 'tab', label: 'example' });
    for (const n of out) if (n.type !== 'tab' && n.type !== 'proficloud-config') n.z = 'ex.tab';
  }
  return out;
}

describe('examples', function () {
  const env = useNodeRedAndKairos();

  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));

  it('has one example per node plus end-to-end', function () {
    assert.deepEqual(files.sort(), ['batch.json', 'end-to-end.json', 'query.json', 'stream.json', 'write.json']);
  });

  for (const file of ['query.json', 'write.json', 'batch.json', 'stream.json', 'end-to-end.json']) {
    it(`${file}: core nodes only, a comment, a credential-free config at 127.0.0.1:8080, and it deploys`, async function () {
      const flow = readExample(file);
      assert.ok(Array.isArray(flow));
      for (const n of flow) assert.ok(n.type.startsWith('proficloud-') || CORE_TYPES.has(n.type), `${file}: ${n.type} is not a core node`);
      assert.ok(flow.some((n) => n.type === 'comment'), 'has a comment node');
      const configs = flow.filter((n) => n.type === 'proficloud-config');
      assert.equal(configs.length, 1);
      assert.equal(configs[0].service, 'kairosdb');
      assert.equal(configs[0].urls, 'http://127.0.0.1:8080');
      assert.ok(!('credentials' in configs[0]), 'no credentials in an example');
      const ids = new Set(flow.map((n) => n.id));
      for (const n of flow) for (const w of ((n.wires as string[][]) ?? []).flat()) assert.ok(ids.has(w), `${file}: wire to missing ${w}`);
      await helper.load([...builtNodes(), ...coreNodes], deployable(flow, env.server.url));
      for (const n of flow) if (n.type !== 'tab') assert.ok(helper.getNode(n.id), `${file}: ${n.id} (${n.type}) did not start`);
    });
  }

  it('end-to-end moves simulated PLC values through write, the server and the stream', async function () {
    this.timeout(15000);
    await helper.load([...builtNodes(), ...coreNodes], deployable(readExample('end-to-end.json'), env.server.url));
    const got: Array<Record<string, unknown>> = [];
    helper.getNode('e2e.ds').on('input', (msg: never) => got.push(msg));
    await until(async () => (await readBack(env.server.url, 'plc.temperature', { line: ['1'] })).length > 0, 8000, 'written PLC values');
    await until(() => got.some((m) => Array.isArray(m.payload) && (m.payload as Array<Record<string, unknown>>).some((r) => typeof r['plc.temperature'] === 'number')), 8000, 'streamed PLC values');
  });
});
