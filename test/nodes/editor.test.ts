/**
 * Static checks of the built editor files: scripts compile, every i18n key used exists in both
 * catalogues, and the config node declares the same credentials in the editor and the runtime.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';

const DIST = join(__dirname, '..', '..', 'dist', 'nodes');
const TYPES = ['proficloud-config', 'proficloud-query', 'proficloud-write', 'proficloud-batch', 'proficloud-stream'];

function catalogue(lang: string, type: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(DIST, 'locales', lang, `${type}.json`), 'utf8')) as Record<string, unknown>;
}

function lookup(obj: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

describe('editor files', function () {
  for (const type of TYPES) {
    const html = readFileSync(join(DIST, `${type}.html`), 'utf8');

    it(`${type}: the editor script compiles`, function () {
      const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
      assert.equal(scripts.length, 1);
      assert.doesNotThrow(() => new Script(scripts[0], { filename: `${type}.html` }));
    });

    it(`${type}: every i18n key it uses exists in en-US and de`, function () {
      const keys = new Set<string>();
      for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) keys.add(m[1]);
      for (const m of html.matchAll(/RED\._\('([^']+)'\)/g)) keys.add(m[1]);
      assert.ok(keys.size > 0);
      for (const lang of ['en-US', 'de']) {
        const cat = catalogue(lang, type);
        for (const key of keys) {
          if (key.startsWith('node-red:')) continue;
          assert.equal(typeof lookup(cat, key), 'string', `${lang}/${type}.json lacks ${key}`);
        }
      }
    });
  }

  it('en-US and de catalogues have the same keys', function () {
    const flat = (o: unknown, prefix = ''): string[] =>
      o && typeof o === 'object' ? Object.entries(o).flatMap(([k, v]) => flat(v, prefix ? `${prefix}.${k}` : k)) : [prefix];
    for (const type of TYPES) assert.deepEqual(flat(catalogue('de', type)).sort(), flat(catalogue('en-US', type)).sort(), type);
  });

  it('proficloud-config declares the same credentials in the editor and the runtime', function () {
    const html = readFileSync(join(DIST, 'proficloud-config.html'), 'utf8');
    const block = /credentials:\s*\{([\s\S]*?)\n\s{8}\}/.exec(html)?.[1] ?? '';
    const editor = Object.fromEntries([...block.matchAll(/(\w+):\s*\{\s*type:\s*'(\w+)'\s*\}/g)].map((m) => [m[1], m[2]]));
    let runtime: Record<string, { type: string }> | undefined;
    const fakeRED = {
      nodes: { registerType: (_t: string, _c: unknown, opts?: { credentials?: Record<string, { type: string }> }) => (runtime = opts?.credentials) },
      httpAdmin: { get: () => undefined, post: () => undefined },
      auth: { needsPermission: () => () => undefined },
    };
    (require(join(DIST, 'proficloud-config.js')) as (red: unknown) => void)(fakeRED);
    assert.ok(runtime);
    assert.deepEqual(Object.fromEntries(Object.entries(runtime).map(([k, v]) => [k, v.type])), editor);
    assert.equal(editor.password, 'password');
    assert.equal(editor.token, 'password');
  });
});
