import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tablePrefix } from '../../src/manifest/layout.js';
import { LocalStore } from '../../src/store/local-store.js';

const top = mkdtempSync(join(tmpdir(), 'tv-local-keys-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
const root = join(top, 'dest');
mkdirSync(root);
const store = new LocalStore(root);

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text);
}

describe('LocalStore keys', () => {
  it.each(['../evil', 'a/../../evil', 'a/./b', '..', 'p/public.../../x'])(
    'refuses to write key %s, as an input error naming the key',
    async (key) => {
      await expect(store.put({ key, body: bytes('x') })).rejects.toMatchObject({
        code: 'DEST_URL',
        exitCode: 2,
        message: expect.stringContaining(`key "${key}"`),
      });
    },
  );

  it('refuses to read or delete through a ".." segment', async () => {
    await expect(store.get('../dest/x')).rejects.toMatchObject({ code: 'DEST_URL' });
    await expect(store.delete(['a/../../x'])).rejects.toMatchObject({ code: 'DEST_URL' });
  });

  it('writes nothing outside its root for a key that is refused', async () => {
    await store.put({ key: 'a/../../evil', body: bytes('x') }).catch(() => {});
    expect(readdirSync(top)).toEqual(['dest']);
  });

  it('keeps a table named ../../evil inside its own folder under the root', async () => {
    const key = `${tablePrefix('nightly', { schema: 'public', name: '../../evil' })}/part-00000.parquet`;
    await store.put({ key, body: bytes('x') });
    expect(existsSync(join(root, 'nightly', 'public.%2E%2E%2F%2E%2E%2Fevil', 'part-00000.parquet'))).toBe(true);
    expect(Buffer.from(await store.get(key)).toString()).toBe('x');
  });

  it('accepts names that merely start with two dots', async () => {
    await store.put({ key: '..x/..y', body: bytes('x') });
    expect(existsSync(join(root, '..x', '..y'))).toBe(true);
  });
});
