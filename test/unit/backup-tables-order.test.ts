import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseBackupTables } from '../../src/manifest/backup-tables.js';
import { MANIFEST_NAME, tablePrefix } from '../../src/manifest/layout.js';
import { LocalStore } from '../../src/store/local-store.js';

const root = mkdtempSync(join(tmpdir(), 'tv-backup-tables-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const store = new LocalStore(root);

async function* bytes(n: number): AsyncGenerator<Uint8Array> {
  yield new Uint8Array(n);
}

/** A finished table backup: its manifest and part objects of these sizes. */
async function backup(name: string, parts: number[]): Promise<void> {
  const prefix = tablePrefix('', { schema: 'shop', name });
  for (const [i, n] of parts.entries())
    await store.put({ key: `${prefix}/part-${String(i).padStart(5, '0')}.parquet`, body: bytes(n) });
  await store.put({ key: `${prefix}/${MANIFEST_NAME}`, body: bytes(10) });
}

describe('the tables of a whole backup', () => {
  it('come largest first by the bytes of their objects, not by how many objects each has', async () => {
    await backup('many_small', [100, 100, 100]);
    await backup('one_large', [50_000]);
    await backup('one_medium', [2_000]);
    await backup('empty', []);
    const tables = await chooseBackupTables(pathToFileURL(root).href, undefined, undefined, undefined);
    expect(tables.map((t) => [t.name, t.objects, t.bytes])).toEqual([
      ['one_large', 1, 50_000],
      ['one_medium', 1, 2_000],
      ['many_small', 3, 300],
      ['empty', 0, 0],
    ]);
  });
});
