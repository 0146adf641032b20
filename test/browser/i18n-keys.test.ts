/**
 * The editor scripts look messages up with t('...') (the package's namespace); every key they use must
 * exist in both catalogues, and each node has sidebar help in en-US and de. Runs without a browser.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const NODES = join(__dirname, '..', '..', 'nodes');
const EDITOR = join(__dirname, '..', '..', 'editor');
const TYPES = ['proficloud-config', 'proficloud-query', 'proficloud-write', 'proficloud-batch', 'proficloud-stream'];

function lookup(obj: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

describe('editor message keys', function () {
  for (const type of TYPES) {
    it(`${type}: every t('key') and prefixed key exists in en-US and de`, function () {
      const html = readFileSync(join(NODES, `${type}.html`), 'utf8');
      const keys = new Set<string>();
      for (const m of html.matchAll(/\bt\('([^']+)'/g)) keys.add(m[1]);
      // Keys built at run time from a prefix and a list (units, output modes).
      for (const m of html.matchAll(/\bt\('([^']+\.)' \+/g)) keys.delete(m[1]);
      assert.ok(keys.size > 0, 'the editor uses its catalogue');
      for (const lang of ['en-US', 'de']) {
        const cat = JSON.parse(readFileSync(join(NODES, 'locales', lang, `${type}.json`), 'utf8')) as unknown;
        for (const key of keys) assert.equal(typeof lookup(cat, key), 'string', `${lang}/${type}.json lacks ${key}`);
        const help = readFileSync(join(NODES, 'locales', lang, `${type}.html`), 'utf8');
        assert.match(help, new RegExp(`data-help-name="${type}"`));
      }
    });
  }

  it("the shared editor code (editor/*.ts): every t('<type>.key') exists in that type's catalogue in en-US and de", function () {
    let count = 0;
    for (const file of readdirSync(EDITOR).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(EDITOR, file), 'utf8');
      for (const m of source.matchAll(/\bt\('((proficloud-[a-z]+)\.[^']+)'/g)) {
        count++;
        for (const lang of ['en-US', 'de']) {
          const cat = JSON.parse(readFileSync(join(NODES, 'locales', lang, `${m[2]}.json`), 'utf8')) as unknown;
          assert.equal(typeof lookup(cat, m[1]), 'string', `${lang}/${m[2]}.json lacks ${m[1]} (editor/${file})`);
        }
      }
    }
    assert.ok(count >= 10, `editor/*.ts looks messages up (${count} found)`);
  });

  it('proficloud-query: every aggregator unit and output mode has a label in both languages', function () {
    for (const lang of ['en-US', 'de']) {
      const cat = JSON.parse(readFileSync(join(NODES, 'locales', lang, 'proficloud-query.json'), 'utf8')) as unknown;
      for (const u of ['milliseconds', 'seconds', 'minutes', 'hours', 'days', 'weeks', 'months', 'years']) {
        assert.equal(typeof lookup(cat, `proficloud-query.unit.${u}`), 'string', `${lang} unit ${u}`);
      }
      for (const o of ['rows', 'series', 'chart', 'raw']) assert.equal(typeof lookup(cat, `proficloud-query.output.${o}`), 'string', `${lang} output ${o}`);
    }
  });
});
