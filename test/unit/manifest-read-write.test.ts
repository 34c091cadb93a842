import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTablevaultError } from '../../src/errors.js';
import { parseManifest, readManifest } from '../../src/manifest/read.js';
import type { ExportManifest, IncrementalManifest } from '../../src/manifest/types.js';
import {
  exportManifest,
  incrementalManifest,
  writeManifest,
  type IncrementalManifestInput,
} from '../../src/manifest/write.js';
import { deletesObjectKey } from '../../src/manifest/layout.js';
import { LocalStore } from '../../src/store/local-store.js';
import { fixturePath } from '../helpers/db.js';

const root = mkdtempSync(join(tmpdir(), 'tv-manifest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const store = new LocalStore(root);

const fixtureText = (name: string) => readFileSync(fixturePath(`manifests/${name}`), 'utf8');

/** The writer's input that gives back a fixture: what the export and the state store knew. */
function exportInput(m: ExportManifest, prefix: string) {
  const table = {
    engine: m.source.engine,
    schema: m.source.schema,
    name: m.source.table,
    columns: m.columns,
    primaryKey: m.primaryKey,
  };
  return [
    prefix,
    table,
    m.compression,
    m.files.map((f) => ({ key: `${prefix}/${f.name}`, rows: f.rows, bytes: f.bytes, sha256: f.sha256 })),
    m.completedAt,
  ] as const;
}

function incrementalInput(m: IncrementalManifest, prefix: string): IncrementalManifestInput {
  return {
    table: { engine: m.source.engine, schema: m.source.schema, name: m.source.table },
    columns: m.columns,
    keyColumns: m.keyColumns,
    primaryKey: m.primaryKey,
    schemaVersion: m.schemaVersion!,
    watermark: m.watermark,
    rows: m.rows,
    schemas: m.schemas!,
    objects: m.files.map((f) => ({
      key: `${prefix}/${f.name}`,
      rows: f.rows,
      bytes: f.bytes,
      sha256: f.sha256,
      schemaVersion: f.schemaVersion!,
      after: f.after,
      through: f.through,
      runId: f.runId,
    })),
  };
}

async function written(prefix: string): Promise<string> {
  return Buffer.from(await store.get(`${prefix}/_manifest.json`)).toString('utf8');
}

describe('the manifest writer', () => {
  it('writes an export manifest byte for byte as the version that wrote the fixture did', async () => {
    const fixture = parseManifest(JSON.parse(fixtureText('export-v1.json')), 'fixture') as ExportManifest;
    await writeManifest(store, 'exp/shop.customers', exportManifest(...exportInput(fixture, 'exp/shop.customers')));
    expect(await written('exp/shop.customers')).toBe(fixtureText('export-v1.json'));
  });

  it('writes an incremental manifest byte for byte as the version that wrote the fixture did', async () => {
    for (const name of ['incremental-v1.json', 'incremental-v1-day.json']) {
      const fixture = parseManifest(JSON.parse(fixtureText(name)), 'fixture') as IncrementalManifest;
      const prefix = `inc/${name}`;
      await writeManifest(
        store,
        prefix,
        incrementalManifest(prefix, incrementalInput(fixture, prefix), fixture.updatedAt),
      );
      expect(await written(prefix)).toBe(fixtureText(name));
    }
  });

  it('marks an object late when it leaves the watermark where it was', () => {
    const w = ['2024-01-01 00:00:00+00', '7'];
    const m = incrementalManifest('p', {
      table: { engine: 'postgres', schema: 's', name: 't' },
      columns: [],
      keyColumns: ['at', 'id'],
      schemaVersion: 1,
      watermark: w,
      rows: 2,
      schemas: [],
      objects: [
        {
          key: 'p/incr-00000000.parquet',
          rows: 1,
          bytes: 1,
          sha256: 'a',
          schemaVersion: 1,
          after: null,
          through: w,
          runId: 'r',
        },
        {
          key: 'p/incr-00000001.parquet',
          rows: 1,
          bytes: 1,
          sha256: 'b',
          schemaVersion: 1,
          after: [...w],
          through: [...w],
          runId: 'r',
        },
      ],
    });
    expect(m.files.map((f) => f.late)).toEqual([false, true]);
  });

  it('names a tombstone object as one, never late, and the reader takes it back', () => {
    const w = ['2024-01-01 00:00:00+00', '7'];
    const m = incrementalManifest('p', {
      table: { engine: 'postgres', schema: 's', name: 't' },
      columns: [],
      keyColumns: ['at', 'id'],
      schemaVersion: 1,
      watermark: w,
      rows: 1,
      schemas: [],
      objects: [
        {
          key: 'p/incr-00000000.parquet',
          rows: 1,
          bytes: 1,
          sha256: 'a',
          schemaVersion: 1,
          after: null,
          through: w,
          runId: 'r',
        },
        {
          key: deletesObjectKey('p', 1),
          rows: 3,
          bytes: 1,
          sha256: 'b',
          schemaVersion: 1,
          after: [...w],
          through: [...w],
          runId: 'r2',
          kind: 'deletes',
        },
      ],
    });
    expect(m.files.map((f) => [f.name, f.kind, f.late])).toEqual([
      ['incr-00000000.parquet', undefined, false],
      ['_deletes/del-00000001.deletes', 'deletes', false],
    ]);
    expect(parseManifest(JSON.parse(JSON.stringify(m)), 'p/_manifest.json')).toEqual(m);
  });
});

describe('the manifest reader', () => {
  it('reads back what the writer wrote (export)', async () => {
    const m = exportManifest(
      'rt/public.a',
      {
        engine: 'mysql',
        schema: 'public',
        name: 'a',
        columns: [{ name: 'id', dbType: 'int', nullable: false, kind: 'int32' }],
        primaryKey: ['id'],
      },
      'snappy',
      [{ key: 'rt/public.a/part-00000.parquet', rows: 10, bytes: 100, sha256: 'ff' }],
    );
    await writeManifest(store, 'rt/public.a', m);
    expect(await readManifest(store, 'rt/public.a', 'file:///x/public.a')).toEqual(m);
  });

  it('reads back what the writer wrote (incremental)', async () => {
    const fixture = parseManifest(JSON.parse(fixtureText('incremental-v1.json')), 'fixture') as IncrementalManifest;
    const m = incrementalManifest('rt/shop.orders', incrementalInput(fixture, 'rt/shop.orders'));
    await writeManifest(store, 'rt/shop.orders', m);
    expect(await readManifest(store, 'rt/shop.orders', 'file:///x/shop.orders')).toEqual(m);
  });

  it('fails with NO_MANIFEST and what to give when the prefix has none', async () => {
    const e = await readManifest(store, 'nothing/here', 'file:///x/nothing/here').catch((err: unknown) => err);
    expect(isTablevaultError(e) && e.code).toBe('NO_MANIFEST');
    expect((e as Error).message).toBe(
      "file:///x/nothing/here holds no _manifest.json: give the table's own prefix (…/<schema>.<table>) of a finished export or backup",
    );
  });

  it('fails with MANIFEST_FORMAT and says to upgrade for a format it does not know', () => {
    const e = (() => {
      try {
        return parseManifest({ format: 'tablevault.export.v2' }, 'u/_manifest.json');
      } catch (err) {
        return err;
      }
    })();
    expect(isTablevaultError(e) && e.code).toBe('MANIFEST_FORMAT');
    expect((e as Error).message).toBe(
      'u/_manifest.json has format tablevault.export.v2, which this tablevault does not read; upgrade tablevault',
    );
  });

  it('fails with MANIFEST_FORMAT naming the field when a known format is damaged', () => {
    const m = JSON.parse(fixtureText('incremental-v1.json')) as { files: Array<{ rows: unknown }> };
    m.files[1]!.rows = 'two';
    expect(() => parseManifest(m, 'u/_manifest.json')).toThrow(
      /u\/_manifest\.json is not a valid tablevault\.incremental\.v1 manifest \(files\.1\.rows: /,
    );
  });

  it('fails with MANIFEST_FORMAT when the object is not JSON', async () => {
    await store.put({
      key: 'bad/_manifest.json',
      body: (async function* () {
        yield Buffer.from('{"format":');
      })(),
    });
    const e = await readManifest(store, 'bad', 'file:///x/bad').catch((err: unknown) => err);
    expect(isTablevaultError(e) && e.code).toBe('MANIFEST_FORMAT');
  });
});
