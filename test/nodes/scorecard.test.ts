/**
 * The offline part of the Flow Library scorecard (P01, P03-P07, N01, N02, D01) on package.json, the
 * built editor HTML in dist/nodes and the examples — the checks that need no registry access.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  license?: string;
  repository?: unknown;
  bugs?: unknown;
  keywords?: string[];
  engines?: { node?: string };
  files?: string[];
  dependencies?: Record<string, string>;
  'node-red'?: { version?: string; nodes?: Record<string, string> };
};
const TYPES = ['proficloud-config', 'proficloud-query', 'proficloud-write', 'proficloud-batch', 'proficloud-stream'];

/** ">=a.b.c" lower bound (the only range form these fields use) as comparable numbers. */
function lowerBound(range: string | undefined): number[] | undefined {
  const m = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec((range ?? '').trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}
function atMost(a: number[], b: number[]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return true;
}

/** Types registered in each built HTML file, read the way the Flow Library does: the string literal. */
function registeredTypes(html: string): string[] {
  return [...html.matchAll(/RED\.nodes\.registerType\(\s*'([^']+)'/g)].map((m) => m[1]);
}

describe('Flow Library scorecard (offline subset)', function () {
  it('P01 declares a license', function () {
    assert.ok(pkg.license && pkg.license.trim());
  });

  it('P03 links a repository or bug tracker', function () {
    assert.ok(pkg.repository || pkg.bugs);
  });

  it('P04 the package name is scoped', function () {
    assert.match(pkg.name, /^@[a-z0-9-~][a-z0-9-._~]*\/[a-z0-9-~][a-z0-9-._~]*$/);
  });

  it('P05 keywords include node-red', function () {
    assert.ok(pkg.keywords?.includes('node-red'));
  });

  it('P06 node-red.version is satisfied by Node-RED 4 and 5', function () {
    const min = lowerBound(pkg['node-red']?.version);
    assert.ok(min, `unexpected node-red.version ${pkg['node-red']?.version}`);
    assert.ok(atMost(min, [4, 1, 0]) && atMost(min, [5, 0, 0]));
  });

  it('P07 engines.node admits the minimum Node of current Node-RED (20.18.1)', function () {
    const min = lowerBound(pkg.engines?.node);
    assert.ok(min, `unexpected engines.node ${pkg.engines?.node}`);
    assert.ok(atMost(min, [20, 18, 1]));
  });

  it('N01 the five node types are unique, prefixed, mapped to built files that register exactly them', function () {
    const nodes = pkg['node-red']?.nodes ?? {};
    assert.deepEqual(Object.keys(nodes).sort(), [...TYPES].sort());
    const seen: string[] = [];
    for (const [type, file] of Object.entries(nodes)) {
      const js = join(ROOT, file);
      assert.ok(existsSync(js), `${file} is built (npm run build)`);
      const html = readFileSync(js.replace(/\.js$/, '.html'), 'utf8');
      const types = registeredTypes(html);
      assert.deepEqual(types, [type], `${file}: registerType must use the literal '${type}'`);
      seen.push(...types);
    }
    assert.equal(new Set(seen).size, seen.length);
    for (const t of seen) assert.match(t, /^proficloud-/);
  });

  it('N01 each built node has en-US and de messages and help, and its icon', function () {
    const dist = join(ROOT, 'dist', 'nodes');
    for (const type of TYPES) {
      for (const lang of ['en-US', 'de']) {
        const messages = JSON.parse(readFileSync(join(dist, 'locales', lang, `${type}.json`), 'utf8')) as Record<string, unknown>;
        assert.ok(messages[type], `${lang}/${type}.json has the ${type} namespace`);
        const help = readFileSync(join(dist, 'locales', lang, `${type}.html`), 'utf8');
        assert.match(help, new RegExp(`data-help-name="${type}"`));
        assert.match(help, /^\s*<script[^>]*>\s*<p>/, `${lang}/${type}.html starts with the tooltip <p>`);
        assert.match(help, /<h3>/);
      }
      if (type !== 'proficloud-config') {
        const html = readFileSync(join(dist, `${type}.html`), 'utf8');
        const icon = /icon:\s*'([^']+)'/.exec(html)?.[1];
        assert.ok(icon && existsSync(join(dist, 'icons', icon)), `${type}: icon ${icon} shipped`);
        assert.match(html, /category:\s*'Proficloud'/);
      }
    }
  });

  it('N02 the examples together use every non-config node type', function () {
    assert.ok(pkg.files?.includes('examples'), 'examples are published');
    const dir = join(ROOT, 'examples');
    const used = new Set<string>();
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      const flow = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Array<{ type: string }>;
      for (const n of flow) used.add(n.type);
    }
    for (const t of TYPES.filter((x) => x !== 'proficloud-config')) assert.ok(used.has(t), `no example uses ${t}`);
  });

  it('D01 at most 6 runtime dependencies', function () {
    assert.ok(Object.keys(pkg.dependencies ?? {}).length <= 6);
  });
});
