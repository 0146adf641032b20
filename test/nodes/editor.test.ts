/**
 * Static checks of the built editor files: scripts compile, each node's HTML loads the shared editor script
 * itself, every i18n key used exists in both catalogues, and the config node declares the same credentials
 * in the editor and the runtime.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script, createContext } from 'node:vm';
import { UNIT_SPELLINGS } from '../../src/time/unit-table';

const DIST = join(__dirname, '..', '..', 'dist', 'nodes');
// Built by scripts/build.mjs from editor/; Node-RED serves it as resources/@kairos-edge/node-red-proficloud/editor.js.
const SHARED = join(__dirname, '..', '..', 'resources', 'editor.js');
const SHARED_TAG = '<script src="resources/@kairos-edge/node-red-proficloud/editor.js"></script>';
const TYPES = ['proficloud-config', 'proficloud-query', 'proficloud-write', 'proficloud-batch', 'proficloud-stream'];

function catalogue(lang: string, type: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(DIST, 'locales', lang, `${type}.json`), 'utf8')) as Record<string, unknown>;
}

function lookup(obj: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

function editorScripts(html: string): string[] {
  return [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
}

function editorTemplate(html: string, type: string): string {
  const m = new RegExp(`<script type="text/html" data-template-name="${type}">([\\s\\S]*?)</script>`).exec(html);
  assert.ok(m, `${type} has a template`);
  return m[1];
}

function i18nKeys(html: string): Set<string> {
  const keys = new Set<string>();
  for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) keys.add(m[1]);
  for (const m of html.matchAll(/RED\._\('([^']+)'\)/g)) keys.add(m[1]);
  return keys;
}

function assertKeysExist(type: string, keys: Set<string>): void {
  for (const lang of ['en-US', 'de']) {
    const cat = catalogue(lang, type);
    for (const key of keys) {
      if (key.startsWith('node-red:')) continue;
      assert.equal(typeof lookup(cat, key), 'string', `${lang}/${type}.json lacks ${key}`);
    }
  }
}

describe('editor files', function () {
  for (const type of TYPES) {
    const html = readFileSync(join(DIST, `${type}.html`), 'utf8');

    it(`${type}: the editor script compiles and the HTML loads the shared editor script first`, function () {
      const scripts = editorScripts(html);
      assert.equal(scripts.length, 1);
      for (const script of scripts) assert.doesNotThrow(() => new Script(script, { filename: `${type}.html` }));
      assert.ok(html.startsWith(`${SHARED_TAG}\n`), `${type}.html starts with ${SHARED_TAG}`);
      // The Flow Library finds the type only in a literal registerType call.
      assert.match(scripts[0], new RegExp(`RED\\.nodes\\.registerType\\('${type}', \\{`));
    });

    it(`${type}: every i18n key it uses exists in en-US and de`, function () {
      const keys = i18nKeys(html);
      assert.ok(keys.size > 0);
      assertKeysExist(type, keys);
    });
  }

  it('the shared editor script is built and compiles', function () {
    assert.doesNotThrow(() => new Script(readFileSync(SHARED, 'utf8'), { filename: 'editor.js' }));
  });

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

/**
 * The editor scripts run in a VM against a small stand-in for the editor globals: the shared editor script
 * first (each node's HTML loads it before its own script, as Node-RED runs script src tags first), then each
 * node's registration, whose validators, labels and hooks must come out of the shared helpers with each node's
 * own messages. Any one node's HTML works without the others.
 */
describe('editor scripts with the shared helper library', function () {
  type Validator = (this: unknown, v: unknown, opt: object) => true | string | boolean;
  interface Definition {
    defaults: Record<string, { value: unknown; validate?: Validator }>;
    label: (this: unknown) => string;
    labelStyle: (this: unknown) => string;
    oneditprepare?: (this: unknown) => void;
    oneditsave?: (this: unknown) => void;
  }
  interface Reply {
    done(fn: (names: string[]) => void): Reply;
    fail(fn: () => void): Reply;
  }
  interface Editor {
    registered: Record<string, Definition>;
    errors: string[];
    requests: Array<{ url: string; params: unknown; answer: (names: string[]) => void }>;
    nodes: Record<string, { changed?: boolean }>;
    fields: Record<string, string | boolean>;
    widgets: Array<{ selector: string; options: unknown }>;
    /** Lines put into a message box, by its selector. */
    shown: Record<string, string[]>;
    lastText?: string;
    /** Each loaded node's template text, as the dialog will read it. */
    templates: Record<string, string>;
    /** Runs the shared editor script (resources/editor.js). */
    shared(): void;
    /** Runs a node's inline script (or only script block `block`), its template in the page as Node-RED appends both together. */
    run(type: string, block?: number): void;
    /** Runs a node's inline script again, keeping the template as it is now. */
    rerun(type: string): void;
    lib(): { suggestMetricNames: (value: string, done: (items: unknown[]) => void) => void; outbox: { rows: (type: string) => string } };
  }

  function editor(): Editor {
    const e: Editor = {
      registered: {},
      errors: [],
      requests: [],
      nodes: {},
      fields: {},
      widgets: [],
      shown: {},
      templates: {},
      shared() {
        new Script(readFileSync(SHARED, 'utf8'), { filename: 'editor.js' }).runInContext(context);
      },
      run(type, block) {
        const html = readFileSync(join(DIST, `${type}.html`), 'utf8');
        e.templates[type] = editorTemplate(html, type);
        for (const [i, script] of editorScripts(html).entries()) if (block === undefined || block === i) new Script(script).runInContext(context);
      },
      rerun(type) {
        for (const script of editorScripts(readFileSync(join(DIST, `${type}.html`), 'utf8'))) new Script(script).runInContext(context);
      },
      lib: () => (context.RED as { proficloud: ReturnType<Editor['lib']> }).proficloud,
    };
    // Just the jQuery surface the scripts touch: field values, checkboxes, change handlers, widgets, getJSON.
    const $ = Object.assign(
      (selector: string) => {
        const template = /^script\[data-template-name="([\w-]+)"\]$/.exec(selector)?.[1];
        if (template !== undefined) {
          const present = template in e.templates;
          return {
            length: present ? 1 : 0,
            text: (value?: string) => (value === undefined ? e.templates[template] : (e.templates[template] = value)),
          };
        }
        const present = selector in e.fields;
        const el = {
          length: present ? 1 : 0,
          val: () => e.fields[selector],
          is: () => e.fields[selector] === true,
          on: () => undefined,
          toggle: () => el,
          // A message box: emptied and filled with lines (kept, so tests can read what the dialog says).
          empty: () => ((e.shown[selector] = []), el),
          text: (t: string) => ((e.lastText = t), el),
          appendTo: (box: { selector?: string }) => (e.shown[box.selector ?? '']?.push(e.lastText ?? ''), el),
          selector,
          autoComplete: (options: unknown) => e.widgets.push({ selector, options }),
          spinner: () => undefined,
        };
        return el;
      },
      {
        getJSON(url: string, params: unknown): Reply {
          let answer: (names: string[]) => void = () => undefined;
          const reply: Reply = {
            done: (fn) => ((answer = fn), reply),
            fail: () => reply,
          };
          e.requests.push({ url, params, answer: (names) => answer(names) });
          return reply;
        },
      },
    );
    const context = createContext({
      $,
      console: { error: (...args: unknown[]) => e.errors.push(args.join(' ')) },
      RED: {
        _: (key: string) => `editor:${key}`,
        // Each type's own catalogue answers with the key it was asked for, so tests see whose message came back.
        nodes: {
          registerType: (type: string, def: Definition) => (e.registered[type] = def),
          getType: (type: string) => (e.registered[type] ? { _: (key: string) => `${type}:${key}` } : undefined),
          node: (id: string) => e.nodes[id] ?? null,
        },
        validators: { typedInput: () => () => true },
      },
    });
    return e;
  }

  function loaded(): Editor {
    const e = editor();
    // Every node's HTML loads the shared script; only the first run defines it.
    for (const type of TYPES) {
      e.shared();
      e.run(type);
    }
    return e;
  }

  it('registers all five types, with two-parameter validators so their reasons show', function () {
    const e = loaded();
    assert.deepEqual(Object.keys(e.registered), TYPES);
    assert.deepEqual(e.errors, []);
    for (const [type, def] of Object.entries(e.registered)) {
      for (const [name, prop] of Object.entries(def.defaults)) {
        if (prop.validate) assert.equal(prop.validate.length, 2, `${type}.${name}`);
      }
    }
  });

  it('checks tags the same way in config, query and stream, each with its own message', function () {
    const e = loaded();
    const cases: Array<[string, 'type' | true]> = [
      ['', true],
      ['${TAGS}', true],
      ['site=plant1, line=3;area=b', true],
      ['{"site":"plant1"}', true],
      ['site', 'type'],
      ['site=a=b', 'type'],
      ['[1,2]', 'type'],
      ['{not json', 'type'],
    ];
    for (const [type, field] of [
      ['proficloud-config', 'defaultTags'],
      ['proficloud-query', 'tags'],
      ['proficloud-stream', 'tags'],
    ]) {
      const validate = e.registered[type].defaults[field].validate!;
      for (const [value, want] of cases) {
        assert.equal(validate.call({}, value, {}), want === true ? true : `${type}:${type}.errors.tags`, `${type} ${JSON.stringify(value)}`);
      }
    }
  });

  it('duration fields accept the runtime unit table, months and years included; no dialog keeps its own unit list', function () {
    const e = loaded();
    const field = (type: string, name: string) => (v: unknown, self: Record<string, unknown> = {}) => e.registered[type].defaults[name].validate!.call(self, v, {});
    const pageSize = field('proficloud-query', 'pageSize');
    const start = field('proficloud-query', 'start');
    const window = field('proficloud-stream', 'window');
    const horizon = field('proficloud-stream', 'horizon');
    for (const v of ['1M', '2 months', '1y', '3 Years', '90 mins', '1.5h', '60000']) {
      assert.equal(pageSize(v, { paged: true }), true, `pageSize ${v}`);
      assert.equal(window(v), true, `window ${v}`);
    }
    for (const v of ['2M', '1 mo ago', '1y']) assert.equal(start(v, { startType: 'str' }), true, `start ${v}`);
    for (const v of ['7d', '1w', '168h', '0', '']) assert.equal(horizon(v), true, `horizon ${v}`);
    // Longer than 7 days, or not a duration at all.
    for (const v of ['1M', '1y', '8d', '1 fortnight']) assert.equal(horizon(v), 'proficloud-stream:proficloud-stream.errors.horizon', `horizon ${v}`);
    for (const v of ['1 fortnight', 'x', '0']) assert.equal(window(v), 'proficloud-stream:proficloud-stream.errors.window', `window ${v}`);
    for (const type of TYPES) {
      const html = readFileSync(join(DIST, `${type}.html`), 'utf8');
      assert.doesNotMatch(html, /minutes\?|hours\?|UNIT_MS|86400000/, `${type}.html has its own unit table`);
    }
  });

  it('the help of every node with duration fields names every unit spelling the runtime accepts (en-US and de)', function () {
    for (const type of ['proficloud-query', 'proficloud-stream']) {
      for (const lang of ['en-US', 'de']) {
        const help = readFileSync(join(DIST, 'locales', lang, `${type}.html`), 'utf8');
        for (const spelling of UNIT_SPELLINGS) assert.ok(help.includes(`<code>${spelling}</code>`), `${lang}/${type}.html names ${spelling}`);
      }
    }
    // Fields that are plain numbers say so, with their unit.
    for (const [lang, words] of [['en-US', /plain number of seconds[^]*takes no unit/], ['de', /bloße Zahl von Sekunden[^]*keine Einheit/]] as const) {
      assert.match(readFileSync(join(DIST, 'locales', lang, 'proficloud-write.html'), 'utf8'), words, `${lang} write delay`);
    }
  });

  it('shares counts, the outbox size rule and the write/batch dialog hooks', function () {
    const e = loaded();
    const batchSize = e.registered['proficloud-batch'].defaults.batchSize.validate!;
    const maxPoints = e.registered['proficloud-write'].defaults.maxBatchPoints.validate!;
    const limit = e.registered['proficloud-query'].defaults.limit.validate!;
    for (const ok of [1, '5000', ' 12 ']) {
      assert.equal(batchSize.call({}, ok, {}), true);
      assert.equal(maxPoints.call({}, ok, {}), true);
      assert.equal(limit.call({}, ok, {}), true);
    }
    assert.equal(batchSize.call({}, '0', {}), 'proficloud-batch:proficloud-batch.errors.batchSize');
    assert.equal(maxPoints.call({}, 'lots', {}), 'proficloud-write:proficloud-write.errors.maxBatchPoints');
    assert.equal(limit.call({}, '2.5', {}), 'proficloud-query:proficloud-query.errors.limit');
    assert.equal(limit.call({}, '', {}), true);

    for (const type of ['proficloud-write', 'proficloud-batch']) {
      const def = e.registered[type];
      const maxMB = def.defaults.outboxMaxMB.validate!;
      // The size also bounds the in-memory backlog when the outbox is off, so it is checked either way.
      assert.equal(maxMB.call({ outbox: false }, '0', {}), `${type}:${type}.errors.outboxMaxMB`);
      assert.equal(maxMB.call({ outbox: true }, '0', {}), `${type}:${type}.errors.outboxMaxMB`);
      assert.equal(maxMB.call({ outbox: false }, '50', {}), true);
      e.fields['#node-input-outbox'] = false;
      assert.equal(maxMB.call({ outbox: true }, 'x', {}), `${type}:${type}.errors.outboxMaxMB`);
      delete e.fields['#node-input-outbox'];
      const node: { outputs?: number } = {};
      e.fields['#node-input-report'] = true;
      def.oneditsave!.call(node);
      assert.equal(node.outputs, 1);
      e.fields['#node-input-report'] = false;
      def.oneditsave!.call(node);
      assert.equal(node.outputs, 0);
    }
  });

  it('labels query and stream nodes by their first two metrics', function () {
    const e = loaded();
    const stream = e.registered['proficloud-stream'];
    const query = e.registered['proficloud-query'];
    assert.equal(stream.label.call({ metrics: 'a, b\nc', interval: 10000 }), 'a, b +1 every 10 s');
    assert.equal(query.label.call({ metrics: 'a,b', metricsType: 'str', aggMode: 'list', aggregators: [] }), 'a, b');
    assert.equal(stream.labelStyle.call({ name: 'x' }), 'node_label_italic');
    assert.equal(query.labelStyle.call({}), '');
  });

  it('suggests metric names after the last comma from the deployed config node only', function () {
    const e = loaded();
    const suggest = e.lib().suggestMetricNames;
    // JSON copies: values made inside the VM carry its own Array/Object prototypes.
    const got: unknown[][] = [];
    e.fields['#node-input-server'] = 'cfg1';
    e.nodes.cfg1 = { changed: true };
    suggest('plc.t', (items) => got.push(JSON.parse(JSON.stringify(items)) as unknown[]));
    assert.deepEqual([...got], [[]]);
    assert.equal(e.requests.length, 0, 'an undeployed config node is not asked');

    e.nodes.cfg1 = {};
    suggest('plc.temperature, plc.p', (items) => got.push(JSON.parse(JSON.stringify(items)) as unknown[]));
    assert.equal(e.requests.length, 1);
    assert.equal(e.requests[0].url, 'proficloud-ts/metricnames');
    assert.deepEqual(JSON.parse(JSON.stringify(e.requests[0].params)), { config: 'cfg1', prefix: 'plc.p' });
    e.requests[0].answer(['plc.pressure', 'plc.temperature']);
    assert.deepEqual(got[1], [{ value: 'plc.temperature, plc.pressure', label: 'plc.pressure' }]);

    // The stream dialog's plain input uses the same source.
    e.registered['proficloud-stream'].oneditprepare!.call({});
    assert.equal((e.widgets.find((w) => w.selector === '#node-input-metrics')?.options as { search?: unknown }).search, suggest);
  });

  it('the stream dialog warns about combinations that cannot work', function () {
    const e = loaded();
    const box = '#proficloud-stream-problems';
    const open = (fields: Record<string, string>): string[] => {
      e.fields = { [box]: '', '#node-input-mode': 'incremental', '#node-input-window': '10m', '#node-input-interval': '10000', '#node-input-horizon': '1h', '#node-input-output': 'rows', '#node-input-rowGrace': '', ...fields };
      e.registered['proficloud-stream'].oneditprepare!.call({});
      return [...(e.shown[box] ?? [])];
    };
    assert.deepEqual(open({}), [], 'the defaults are fine');
    e.nodes.io1 = { service: 'io' } as { changed?: boolean };
    const keys = (list: string[]): string[] => list.map((t) => t.replace('proficloud-stream:proficloud-stream.warn.', ''));
    assert.deepEqual(keys(open({ '#node-input-server': 'io1' })), ['ioHorizon']);
    assert.deepEqual(keys(open({ '#node-input-server': 'io1', '#node-input-horizon': '0' })), []);
    assert.deepEqual(keys(open({ '#node-input-window': '5s' })), ['windowShort']);
    assert.deepEqual(keys(open({ '#node-input-mode': 'window' })), ['windowHorizon']);
    assert.deepEqual(keys(open({ '#node-input-output': 'chart', '#node-input-horizon': '2h' })), ['chartHorizon', 'chartAxis']);
    assert.deepEqual(keys(open({ '#node-input-output': 'series', '#node-input-rowGrace': '5' })), ['rowGrace']);
  });

  it('a node whose shared script did not load logs why and does not register', function () {
    const e = editor();
    e.run('proficloud-query');
    assert.deepEqual(e.registered, {});
    assert.equal(e.errors.length, 1);
    assert.match(e.errors[0], /proficloud-query: not registered.*RED\.proficloud.*resources\/@kairos-edge\/node-red-proficloud\/editor\.js/);
  });

  it('the shared script is defined once: a second load keeps the first', function () {
    const e = editor();
    e.shared();
    const first = e.lib();
    e.shared();
    assert.equal(e.lib(), first);
  });

  for (const type of TYPES.filter((t) => t !== 'proficloud-config')) {
    it(`${type} works without proficloud-config.html (its node set disabled): registers, validates, labels`, function () {
      const e = editor();
      e.shared();
      e.run(type);
      assert.deepEqual(e.errors, []);
      assert.deepEqual(Object.keys(e.registered), [type]);
      const def = e.registered[type];
      const node = Object.fromEntries(Object.entries(def.defaults).map(([k, p]) => [k, p.value]));
      for (const [name, prop] of Object.entries(def.defaults)) {
        if (prop.validate && name !== 'metrics') assert.equal(prop.validate.call(node, node[name], {}), true, `${type}.${name} default is valid`);
      }
      assert.equal(typeof def.label.call(node), 'string');
    });
  }

  it('write and batch get the same outbox rows from one template, each with its own message keys', function () {
    const e = loaded();
    const rows = e.lib().outbox.rows;
    for (const type of ['proficloud-write', 'proficloud-batch']) {
      const tpl = e.templates[type];
      assert.ok(!tpl.includes('data-proficloud-rows'), `${type}: placeholder replaced`);
      for (const id of ['outbox', 'outboxMaxMB', 'overflow', 'report']) assert.equal(tpl.split(`id="node-input-${id}"`).length, 2, `${type}: one #node-input-${id}`);
      assert.match(tpl, new RegExp(`data-i18n="${type}\\.label\\.outbox"`));
      assertKeysExist(type, i18nKeys(tpl));
    }
    // One template: the same rows apart from the catalogue name, placed where each template had its placeholder.
    assert.equal(rows('proficloud-batch'), rows('proficloud-write').split('proficloud-write').join('proficloud-batch'));
    assert.ok(e.templates['proficloud-write'].includes(rows('proficloud-write')));
    assert.ok(e.templates['proficloud-batch'].includes(rows('proficloud-batch')));
    // Running the script again (a second copy of the HTML) leaves the filled template as it is.
    const before = e.templates['proficloud-write'];
    e.rerun('proficloud-write');
    assert.equal(e.templates['proficloud-write'], before);
  });
});
