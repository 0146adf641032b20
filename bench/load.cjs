/**
 * Target 4: what requiring the package's five node files costs Node-RED at start-up, before any
 * deploy. Plain node (no tsx, whose loader hooks would be measured too), on the built dist/ files:
 *   node bench/load.cjs <ours|peer> <preload 0|1>
 * preload 1 first requires the Node built-ins Node-RED itself has loaded by then (zlib, net, http,
 * https, fs/promises, crypto), so only the package's own cost is counted. The peer is
 * node-red-contrib-influxdb's node file. Prints one JSON line: {ms, rssBytes}.
 */
'use strict';
const path = require('node:path');
const [target, preload] = process.argv.slice(2);
if (preload === '1') for (const m of ['zlib', 'net', 'http', 'https', 'fs/promises', 'crypto', 'events', 'stream']) require(`node:${m}`);
const root = path.join(__dirname, '..');
const files =
  target === 'peer'
    ? [require.resolve('node-red-contrib-influxdb/influxdb.js', { paths: [root] })]
    : ['proficloud-config', 'proficloud-query', 'proficloud-write', 'proficloud-batch', 'proficloud-stream'].map((n) => path.join(root, 'dist', 'nodes', `${n}.js`));
const rss0 = process.memoryUsage().rss;
const t0 = process.hrtime.bigint();
for (const f of files) require(f);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(JSON.stringify({ target, preload: preload === '1', ms, rssBytes: process.memoryUsage().rss - rss0 }) + '\n');
