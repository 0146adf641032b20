/**
 * Which Node-RED the tests run against, chosen in one place so the in-process node tests, the Node-RED child
 * processes (reliability, browser, demo) and the core-node lookups all load the same major.
 * NODE_RED_MAJOR=4|5 picks it; by default Node-RED 5 where it can run (Node >= 22) and Node-RED 4 elsewhere.
 * Node-RED 4 is the devDependency `node-red`, Node-RED 5 the npm alias `node-red-5`; each resolves its own
 * @node-red/* packages.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function chooseMajor(): 4 | 5 {
  const asked = process.env.NODE_RED_MAJOR;
  if (asked === '4' || asked === '5') return Number(asked) as 4 | 5;
  if (asked !== undefined && asked !== '') throw new Error(`NODE_RED_MAJOR must be 4 or 5, got ${JSON.stringify(asked)}`);
  return Number(process.versions.node.split('.')[0]) >= 22 ? 5 : 4;
}

export const NODE_RED_MAJOR = chooseMajor();
const PACKAGE = NODE_RED_MAJOR === 5 ? 'node-red-5' : 'node-red';
/** The chosen node-red package's folder. */
export const NODE_RED_DIR = dirname(require.resolve(`${PACKAGE}/package.json`));
/** Resolves modules the way the chosen node-red does (its own @node-red/nodes, @node-red/runtime...). */
export const nodeRedRequire = createRequire(join(NODE_RED_DIR, 'package.json'));
/** The runtime module (what `require('node-red')` gives), for node-red-node-test-helper and embedding. */
export const NODE_RED_MAIN = require.resolve(PACKAGE);
/** The command-line entry, for Node-RED child processes. */
export const NODE_RED_CLI = join(NODE_RED_DIR, 'red.js');
/** @node-red/nodes' core folder of the chosen major. */
export const NODE_RED_CORE_NODES = join(dirname(nodeRedRequire.resolve('@node-red/nodes/package.json')), 'core');
/** The installed node-red version, e.g. "5.0.7". */
export const NODE_RED_VERSION = (require(`${PACKAGE}/package.json`) as { version: string }).version;

if (Number(NODE_RED_VERSION.split('.')[0]) !== NODE_RED_MAJOR) {
  throw new Error(`${PACKAGE} is ${NODE_RED_VERSION}, expected major ${NODE_RED_MAJOR}: run npm ci`);
}
