#!/usr/bin/env node
// Regenerates the README screenshots in docs/images by running the browser test with
// PROFICLOUD_SCREENSHOTS set (it needs /usr/bin/chromium and a build: npm run build first).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const mocha = require.resolve('mocha/bin/mocha.js');
const r = spawnSync(process.execPath, [mocha, '--config', '.mocharc.one.json', 'test/browser/editor.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PROFICLOUD_SCREENSHOTS: 'docs/images' },
});
process.exit(r.status ?? 1);
