import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/manifest/read.js';
import type { ExportManifest, IncrementalManifest } from '../../src/manifest/types.js';
import { backupView, currentFiles, fileColumns } from '../../src/manifest/view.js';
import { fixturePath } from '../helpers/db.js';

/** Manifests written by earlier versions (fixtures/manifests/, written by the code of their time) must still read. */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(fixturePath(`manifests/${name}`), 'utf8'));
}

const names = (cols: Array<{ name: string }>) => cols.map((c) => c.name);

describe('export-v1.json', () => {
  const m = parseManifest(fixture('export-v1.json'), 'export-v1.json') as ExportManifest;

  it('reads as an export manifest from its source', () => {
    expect(m.format).toBe('tablevault.export.v1');
    expect(m.source).toEqual({ engine: 'postgres', schema: 'shop', table: 'customers' });
    expect(m.tablevaultVersion).toBe('0.1.0');
    expect(m.compression).toBe('zstd');
  });

  it('has its columns with their kinds and decimal scale', () => {
    expect(m.columns.map((c) => [c.name, c.kind])).toEqual([
      ['id', 'int32'],
      ['name', 'string'],
      ['balance', 'decimal'],
    ]);
    expect(m.columns[2]).toMatchObject({ dbType: 'numeric(12,2)', nullable: true, precision: 12, scale: 2 });
  });

  it('has its primary key and part objects', () => {
    expect(m.primaryKey).toEqual(['id']);
    expect(m.rows).toBe(3);
    expect(m.files).toEqual([
      {
        name: 'part-00000.parquet',
        rows: 3,
        bytes: 1096,
        sha256: 'b2f18cd6a788d2f1955c44ad7045701e3794ff80d2f773d0337a49933d862f33',
      },
    ]);
  });

  it('is seen by restore and verify with its key and no cursor', () => {
    const v = backupView(m);
    expect(v.primaryKey).toEqual(['id']);
    expect(v.cursor).toBeUndefined();
    expect(fileColumns(v, v.files[0]!)).toBe(m.columns);
  });
});

describe('incremental-v1.json (a column added between runs)', () => {
  const m = parseManifest(fixture('incremental-v1.json'), 'incremental-v1.json') as IncrementalManifest;

  it('reads as an incremental manifest from its source', () => {
    expect(m.format).toBe('tablevault.incremental.v1');
    expect(m.source).toEqual({ engine: 'postgres', schema: 'shop', table: 'orders' });
    expect(names(m.columns)).toEqual(['id', 'customer_id', 'total', 'updated_at', 'note']);
  });

  it('has its cursor first in the key columns, and its watermark', () => {
    expect(m.keyColumns).toEqual(['updated_at', 'id']);
    expect(m.watermark).toEqual(['2024-03-03 13:00:00+00', '3']);
    const v = backupView(m);
    expect(v.cursor).toBe('updated_at');
    expect(v.primaryKey).toEqual(['id']);
  });

  it('has both schema versions, the second with what changed', () => {
    expect(m.schemaVersion).toBe(2);
    expect(m.schemas!.map((s) => [s.version, s.reset, s.changes])).toEqual([
      [1, false, []],
      [2, false, ['column note added']],
    ]);
    expect(names(m.schemas![0]!.columns)).toEqual(['id', 'customer_id', 'total', 'updated_at']);
    expect(m.schemas![1]!.keyColumns).toEqual(['updated_at', 'id']);
  });

  it('has each object with its run, range and schema version', () => {
    expect(m.rows).toBe(5);
    expect(m.files.map((f) => [f.name, f.rows, f.schemaVersion, f.after, f.through, f.late])).toEqual([
      ['incr-00000000.parquet', 3, 1, null, ['2024-03-02 09:00:00+00', '3'], false],
      ['incr-00000001.parquet', 2, 2, ['2024-03-02 09:00:00+00', '3'], ['2024-03-03 13:00:00+00', '3'], false],
    ]);
    expect(m.files.map((f) => f.runId)).toEqual([
      '6b873c4a-921e-45a7-9bee-2887a39a8f04',
      '99149f54-db85-4119-aa17-581d1da06025',
    ]);
  });

  it('gives each object the columns of its schema version', () => {
    const v = backupView(m);
    expect(v.files.map((f) => names(fileColumns(v, f)).length)).toEqual([4, 5]);
    expect(currentFiles(v)).toHaveLength(2);
  });
});

describe('incremental-v1-day.json (partition: day)', () => {
  const m = parseManifest(fixture('incremental-v1-day.json'), 'incremental-v1-day.json') as IncrementalManifest;

  it('names its objects under their day folders', () => {
    expect(m.files.map((f) => f.name)).toEqual([
      'dt=2024-03-01/incr-00000000.parquet',
      'dt=2024-03-02/incr-00000001.parquet',
      'dt=2024-03-03/incr-00000002.parquet',
    ]);
  });

  it('has one schema version, its key and watermark', () => {
    expect(m.source.table).toBe('events');
    expect(m.keyColumns).toEqual(['at', 'id']);
    expect(m.schemaVersion).toBe(1);
    expect(m.schemas!.map((s) => s.version)).toEqual([1]);
    expect(m.watermark).toEqual(['2024-03-03 18:00:00+00', '4']);
    expect(m.files.map((f) => f.through)).toEqual([
      ['2024-03-01 12:00:00+00', '2'],
      ['2024-03-02 08:00:00+00', '3'],
      ['2024-03-03 18:00:00+00', '4'],
    ]);
  });
});

describe('an incremental manifest from before schema versions and the lag window', () => {
  // the shape the first incremental backups wrote (978d6aa): no schemaVersion, schemas or late
  const old = {
    format: 'tablevault.incremental.v1',
    tablevaultVersion: '0.1.0',
    source: { engine: 'mysql', schema: 'test', table: 't' },
    columns: [
      { name: 'id', dbType: 'int', nullable: false, kind: 'int32' },
      { name: 'at', dbType: 'datetime(6)', nullable: false, kind: 'timestamp' },
    ],
    keyColumns: ['at', 'id'],
    watermark: ['2024-01-01 00:00:01.000000', '2'],
    rows: 2,
    files: [
      {
        name: 'incr-00000000.parquet',
        rows: 2,
        bytes: 900,
        sha256: 'ab',
        after: null,
        through: ['2024-01-01 00:00:01.000000', '2'],
        runId: 'r1',
      },
    ],
    updatedAt: '2024-01-01T00:00:02.000Z',
  };

  it('reads, its objects of schema version 1 with the manifest columns', () => {
    const v = backupView(parseManifest(old, 'old'));
    expect(v.schemas).toBeUndefined();
    expect(currentFiles(v)).toHaveLength(1);
    expect(fileColumns(v, v.files[0]!)).toEqual(old.columns);
  });
});
