import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/store/local-store.js';

const root = mkdtempSync(join(tmpdir(), 'tv-local-put-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function* chunks(sizes: number[]): AsyncGenerator<Uint8Array> {
  for (const [i, n] of sizes.entries()) yield new Uint8Array(n).fill(i + 1);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Objects below and above the size written by synchronous calls. */
const sizes = { small: [10, 20], large: [40_000, 40_000, 40_000] };

describe.each(Object.entries(sizes))('LocalStore.put of a %s object', (kind, parts) => {
  it('writes it whole and reports its size and checksum', async () => {
    const store = new LocalStore(root);
    const res = await store.put({ key: `${kind}/t/part-00000.parquet`, body: chunks(parts) });
    const file = readFileSync(join(root, kind, 't', 'part-00000.parquet'));
    expect({ bytes: res.bytes, sha256: res.sha256, files: readdirSync(join(root, kind, 't')) }).toEqual({
      bytes: file.length,
      sha256: sha(file),
      files: ['part-00000.parquet'],
    });
  });

  it("removes a killed process's temporary files of its key, and no other key's", async () => {
    const dir = join(root, `${kind}-left`, 't');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'part-00000.parquet.tmp-4242'), 'half');
    writeFileSync(join(dir, 'part-00001.parquet.tmp-4242'), 'half');
    const store = new LocalStore(root);
    await store.put({ key: `${kind}-left/t/part-00000.parquet`, body: chunks(parts) });
    await store.put({ key: `${kind}-left/t/_manifest.json`, body: chunks([5]) });
    expect(readdirSync(dir).sort()).toEqual(['_manifest.json', 'part-00000.parquet', 'part-00001.parquet.tmp-4242']);
  });

  it('makes its folder again when it was removed after an earlier object', async () => {
    const store = new LocalStore(root);
    await store.put({ key: `${kind}-gone/t/a`, body: chunks(parts) });
    rmSync(join(root, `${kind}-gone`), { recursive: true });
    await store.put({ key: `${kind}-gone/t/b`, body: chunks(parts) }).catch(() => undefined);
    await store.put({ key: `${kind}-gone/t/c`, body: chunks(parts) });
    expect(readdirSync(join(root, `${kind}-gone`, 't'))).toContain('c');
  });
});

describe('LocalStore.put of a body that fails', () => {
  it('leaves no object and no temporary file', async () => {
    const store = new LocalStore(root);
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(100_000);
      throw new Error('read failed');
    }
    await expect(store.put({ key: 'failing/t/part-00000.parquet', body: failing() })).rejects.toThrow('read failed');
    expect(readdirSync(join(root, 'failing', 't'))).toEqual([]);
  });
});
