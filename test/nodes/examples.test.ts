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

/** The one config node every example uses: same id and content, so importing several adds it once. */
const SHARED_CONFIG_ID = 'proficloud.example.server';

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

  it('all examples share one config node: the same id and the same settings, credential-free, at 127.0.0.1:8080', function () {
    const configs = files.map((f) => readExample(f).filter((n) => n.type === 'proficloud-config'));
    for (const [i, list] of configs.entries()) assert.equal(list.length, 1, `${files[i]}: one config node`);
    const first = configs[0][0];
    assert.equal(first.id, SHARED_CONFIG_ID);
    assert.equal(first.service, 'kairosdb');
    assert.equal(first.urls, 'http://127.0.0.1:8080');
    assert.equal(first.authMode, 'none');
    assert.equal(first.z, undefined, 'a global config node (no flow of its own), so every example finds it');
    assert.ok(!('credentials' in first), 'no credentials in an example');
    for (const [i, list] of configs.entries()) assert.deepEqual(list[0], first, `${files[i]}: the config node is identical to ${files[0]}'s`);
    for (const f of files) {
      for (const n of readExample(f)) {
        if (typeof n.server === 'string') assert.equal(n.server, SHARED_CONFIG_ID, `${f}: ${n.id} uses the shared config node`);
      }
    }
  });

  it("each example's comment tells palette users how to start a local server and where to change the URL", function () {
    for (const f of files) {
      const text = readExample(f)
        .filter((n) => n.type === 'comment')
        .map((n) => `${String(n.name)}\n${String(n.info)}`)
        .join('\n');
      assert.match(text, /npx kairosdb-local/, `${f}: how to start the local server`);
      assert.match(text, /~\/\.node-red/, `${f}: where to run it (the user directory that holds the package)`);
      assert.match(text, /http:\/\/127\.0\.0\.1:8080/, `${f}: the URL the config node expects`);
      assert.match(text, /pencil beside Server and change the URL/, `${f}: where to change the URL`);
      assert.doesNotMatch(text, /npm start/, `${f}: npm start only exists in a clone of the repository`);
    }
  });

  for (const file of ['query.json', 'write.json', 'batch.json', 'stream.json', 'end-to-end.json']) {
    it(`${file}: core nodes only, a comment, the shared config, and it deploys with no red status`, async function () {
      const flow = readExample(file);
      assert.ok(Array.isArray(flow));
      for (const n of flow) assert.ok(n.type.startsWith('proficloud-') || CORE_TYPES.has(n.type), `${file}: ${n.type} is not a core node`);
      assert.ok(flow.some((n) => n.type === 'comment'), 'has a comment node');
      assert.deepEqual(flow.filter((n) => n.type === 'proficloud-config').map((n) => n.id), [SHARED_CONFIG_ID]);
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
