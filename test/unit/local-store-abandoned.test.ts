import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/store/local-store.js';

const root = mkdtempSync(join(tmpdir(), 'tv-local-abandoned-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const store = new LocalStore(root);

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text);
}

/** A folder as a killed export leaves it: finished objects, and temporary files of objects it never finished. */
describe('LocalStore.removeAbandoned', () => {
  let removed: number;
  beforeAll(async () => {
    await store.put({ key: 't/a.x/part-00000-00000.parquet', body: bytes('x') });
    mkdirSync(join(root, 't', 'a.x', 'dt=2024-01-01'), { recursive: true });
    writeFileSync(join(root, 't', 'a.x', 'part-00001-00004.parquet.tmp-4242'), 'half');
    writeFileSync(join(root, 't', 'a.x', `part-00002-00000.parquet.tmp-${process.pid}`), 'half');
    writeFileSync(join(root, 't', 'a.x', 'dt=2024-01-01', 'incr-00000001.parquet.tmp-7'), 'half');
    writeFileSync(join(root, 't', 'other.tmp-1'), 'elsewhere');
    removed = await store.removeAbandoned('t/a.x');
  });

  it("removes every temporary file under the prefix, this process's pid's too, and counts them", () => {
    expect(removed).toBe(3);
    expect(readdirSync(join(root, 't', 'a.x'), { recursive: true }).sort()).toEqual([
      'dt=2024-01-01',
      'part-00000-00000.parquet',
    ]);
  });

  it('leaves what is outside the prefix', () => {
    expect(readdirSync(join(root, 't')).sort()).toEqual(['a.x', 'other.tmp-1']);
  });

  it('finds nothing under a prefix that does not exist', async () => {
    expect(await store.removeAbandoned('t/none')).toBe(0);
  });
});
