// The package root's runtime exports are a deliberate list: a name added to or dropped from src/index.ts by
// accident (an `export *`, a helper made public) fails here, and every public name is documented in README.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from '../../src/index';
import { PUBLIC_RUNTIME_EXPORTS } from './public-api';

const ROOT = join(__dirname, '..', '..');

describe('public API of the package root', function () {
  it('exports exactly the checked list of runtime names, each defined', function () {
    const names = Object.keys(api).sort();
    assert.deepEqual(names, PUBLIC_RUNTIME_EXPORTS);
    for (const n of names) assert.notEqual((api as Record<string, unknown>)[n], undefined, `${n} is defined`);
  });

  it('every public name is documented in README.md', function () {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const missing = PUBLIC_RUNTIME_EXPORTS.filter((n) => !new RegExp(`\\b${n}\\b`).test(readme));
    assert.deepEqual(missing, [], 'public names missing from README.md');
  });

  it('every public error class extends KairosError, so one instanceof check catches them all', function () {
    const errors = PUBLIC_RUNTIME_EXPORTS.filter((n) => n.endsWith('Error') && n !== 'KairosError');
    assert.equal(errors.length, 8);
    for (const name of errors) {
      const Cls = (api as unknown as Record<string, { prototype: unknown }>)[name];
      assert.ok(Cls.prototype instanceof api.KairosError, `${name} extends KairosError`);
    }
  });
});
