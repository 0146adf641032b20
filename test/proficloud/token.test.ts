import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../src/errors';
import { decodeToken, generateToken, readTokenFile } from '../../src/proficloud/token';

const PASSWORD = 's3cr3t-Pa55';

function noSecrets(e: unknown, ...secrets: string[]): boolean {
  assert.ok(e instanceof ValidationError, String(e));
  const text = `${e.message} ${JSON.stringify(e.value)} ${e.stack ?? ''}`;
  for (const s of secrets) assert.ok(!text.includes(s), `error leaks a secret: ${e.message}`);
  return true;
}

describe('proficloud token', () => {
  it('generates base64("id:password") and decodes the id back', () => {
    const t = generateToken('acc-123', PASSWORD);
    assert.equal(Buffer.from(t, 'base64').toString(), `acc-123:${PASSWORD}`);
    assert.deepEqual(decodeToken(t), { id: 'acc-123' });
    assert.deepEqual(decodeToken(`Basic ${t}`), { id: 'acc-123' });
    // passwords may contain ':' (only the first one separates)
    assert.deepEqual(decodeToken(generateToken('u', 'a:b')), { id: 'u' });
    assert.equal(generateToken('ü-id', 'pässword'), Buffer.from('ü-id:pässword').toString('base64'));
  });

  it('rejects bad ids and passwords without printing the password', () => {
    assert.throws(() => generateToken('', PASSWORD), (e: unknown) => noSecrets(e, PASSWORD) && (e as ValidationError).field === 'accountId');
    assert.throws(() => generateToken('a:b', PASSWORD), /accountId: must not contain ":"/);
    assert.throws(() => generateToken(42 as unknown as string, PASSWORD), /accountId/);
    assert.throws(() => generateToken('id', ''), (e: unknown) => noSecrets(e) && (e as ValidationError).field === 'password');
    assert.throws(() => generateToken('id', 1234567 as unknown as string), (e: unknown) => noSecrets(e, '1234567'));
    assert.throws(() => generateToken('id', undefined as unknown as string), /password: must be a non-empty string \(got "undefined"\)/);
  });

  it('rejects bad tokens without printing them', () => {
    const good = generateToken('id', PASSWORD);
    const noColon = Buffer.from('justsomething').toString('base64');
    const noId = Buffer.from(':' + PASSWORD).toString('base64');
    for (const bad of ['', '   ', 'not base64 at all!', `${good}$`, noColon, noId, 'x']) {
      assert.throws(() => decodeToken(bad), (e: unknown) => noSecrets(e, good, PASSWORD, noColon, noId) && (e as ValidationError).field === 'token');
    }
    assert.throws(() => decodeToken(null as unknown as string), /token: must be a non-empty base64 string/);
  });

  describe('readTokenFile', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pc-token-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads and trims, silent for a private file', async () => {
      const path = join(dir, 'private');
      await writeFile(path, `  ${generateToken('id', PASSWORD)}\n`);
      await chmod(path, 0o600);
      const warnings: string[] = [];
      assert.equal(await readTokenFile(path, { warn: (m) => warnings.push(m) }), generateToken('id', PASSWORD));
      assert.deepEqual(warnings, []);
    });

    it('warns about group/world-readable files without the token', async function () {
      if (process.platform === 'win32') this.skip();
      const path = join(dir, 'open');
      const token = generateToken('id', PASSWORD);
      await writeFile(path, token);
      await chmod(path, 0o644);
      const warnings: string[] = [];
      assert.equal(await readTokenFile(path, { warn: (m) => warnings.push(m) }), token);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /can be read by other users \(mode 644\)/);
      assert.ok(warnings[0].includes(path));
      assert.ok(!warnings[0].includes(token));
    });

    it('errors name the path, not the content', async () => {
      await assert.rejects(readTokenFile(join(dir, 'missing')), (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.equal(e.field, 'tokenFile');
        assert.match(e.message, /ENOENT.*missing/);
        return true;
      });
      const empty = join(dir, 'empty');
      await writeFile(empty, ' \n');
      await assert.rejects(readTokenFile(empty), /tokenFile: token file is empty/);
      await assert.rejects(readTokenFile(dir), /EISDIR/);
      await assert.rejects(readTokenFile(''), ValidationError);
      await assert.rejects(readTokenFile(7 as unknown as string), /tokenFile/);
    });
  });
});
