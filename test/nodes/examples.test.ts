/**
 * The importable example flows: valid JSON arrays that deploy (our nodes plus core nodes only) and,
 * for the end-to-end flow, actually move data: simulated PLC -> write -> server -> stream.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_RED_CORE_NODES } from '../helpers/node-red-module';
import { builtNodes, callsOf, helper, lastStatus, readBack, until, useNodeRedAndKairos } from './harness';

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

/**
 * After a deploy: waits until each of our nodes has finished its connection check (its status left "connecting"),
 * then fails on any node of the flow that showed a red status.
 */
async function assertNoRedStatus(file: string, flow: FlowNode[]): Promise<void> {
  const ours = flow.filter((n) => n.type.startsWith('proficloud-') && n.type !== 'proficloud-config');
  const settled = (n: FlowNode): boolean => {
    const text = lastStatus(helper.getNode(n.id)).text;
    return text !== undefined && !/status\.connecting$/.test(text);
  };
  await until(() => ours.every(settled), 15_000, `${file}: every node's connection check`);
  const red = flow
    .filter((n) => n.type !== 'tab')
    .flatMap((n) => callsOf(helper.getNode(n.id), 'status').map((c) => c.args[0] as { fill?: string; text?: string }).filter((st) => st.fill === 'red').map((st) => `${n.id} (${n.type}): ${st.text}`));
  assert.deepEqual(red, [], `${file}: red status after deploy`);
}

describe('examples', function () {
  const env = useNodeRedAndKairos();

  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));

  it('has one example per node plus end-to-end', function () {
    assert.deepEqual(files.sort(), ['batch.json', 'end-to-end.json', 'query.json', 'stream.json', 'write.json']);
  });

  for (const file of ['query.json', 'write.json', 'batch.json', 'stream.json', 'end-to-end.json']) {
    it(`${file}: core nodes only, a comment, a credential-free config at 127.0.0.1:8080, and it deploys with no red status`, async function () {
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
      await assertNoRedStatus(file, flow);
    });
  }

  it('end-to-end moves simulated PLC values through write, the server and the stream', async function () {
    this.timeout(60_000);
    const flow = deployable(readExample('end-to-end.json'), env.server.url);
    await helper.load([...builtNodes(), ...coreNodes], flow);
    const got: Array<Record<string, unknown>> = [];
    helper.getNode('e2e.ds').on('input', (msg: never) => got.push(msg));
    await until(async () => (await readBack(env.server.url, 'plc.temperature', { line: ['1'] })).length > 0, 20_000, 'written PLC values');
    await until(() => got.some((m) => Array.isArray(m.payload) && (m.payload as Array<Record<string, unknown>>).some((r) => typeof r['plc.temperature'] === 'number')), 20_000, 'streamed PLC values');
    await assertNoRedStatus('end-to-end.json', flow);
  });
});
