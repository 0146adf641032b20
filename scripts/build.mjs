#!/usr/bin/env node
// Compiles src/ and nodes/ to CommonJS in dist/, then copies what Node-RED loads beside the .js files
// (editor HTML, message catalogues) so package.json's node-red.nodes can point into dist/nodes.
// The editor's shared code (editor/, TypeScript for the browser) is type-checked with its own tsconfig and
// bundled into one classic script, resources/editor.js, which Node-RED serves to the editor as
// resources/@kairos-edge/node-red-proficloud/editor.js. resources/ is build output (git-ignored, shipped).
// No source maps (tsconfig.build.json): tsc's CommonJS output is readable as it is, and a map without its
// sources would only point a debugger at .ts files the package does not ship.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });

const nodesSrc = join(root, 'nodes');
const nodesOut = join(root, 'dist', 'nodes');
if (existsSync(nodesSrc)) {
  for (const f of readdirSync(nodesSrc)) {
    if (f.endsWith('.html')) cpSync(join(nodesSrc, f), join(nodesOut, f));
  }
  if (existsSync(join(nodesSrc, 'locales'))) cpSync(join(nodesSrc, 'locales'), join(nodesOut, 'locales'), { recursive: true });
}
if (existsSync(join(root, 'icons'))) cpSync(join(root, 'icons'), join(nodesOut, 'icons'), { recursive: true });
// The editor code: type-check (lib DOM, no Node types), then bundle. esbuild is the one tsx already runs on.
execFileSync(process.execPath, [tsc, '-p', join(root, 'editor', 'tsconfig.json')], { stdio: 'inherit', cwd: root });
rmSync(join(root, 'resources'), { recursive: true, force: true });
const { buildSync } = require('esbuild');
buildSync({
  entryPoints: [join(root, 'editor', 'main.ts')],
  outfile: join(root, 'resources', 'editor.js'),
  bundle: true,
  format: 'iife',
  target: 'es2019',
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
});

const cli = join(root, 'dist', 'src', 'server', 'cli.js');
if (existsSync(cli)) chmodSync(cli, 0o755);
