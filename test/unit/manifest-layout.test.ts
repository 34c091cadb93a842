import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { incrementalMetadata, parquetMetadata } from '../../src/manifest/footer.js';
import {
  incrementalObjectKey,
  incrementalObjectName,
  isManifestKey,
  isPartKey,
  manifestKey,
  nextDay,
  objectName,
  partName,
  tablePrefix,
  tableUrl,
} from '../../src/manifest/layout.js';
import { VERSION } from '../../src/version.js';

describe('object keys', () => {
  it('puts a table under <prefix>/<schema>.<table>, or at the top without a prefix', () => {
    expect(tablePrefix('nightly', { schema: 'public', name: 'orders' })).toBe('nightly/public.orders');
    expect(tablePrefix('', { schema: 'shop', name: 'orders' })).toBe('shop.orders');
    expect(manifestKey('nightly/public.orders')).toBe('nightly/public.orders/_manifest.json');
  });

  it("gives a table's backup URL under an s3:// destination with its folder as the key has it", () => {
    expect(tableUrl('s3://b/nightly/', { schema: 'public', name: 'a.b' })).toBe('s3://b/nightly/public.a%2Eb');
    expect(tableUrl('s3://b', { schema: 'public', name: 'orders' })).toBe('s3://b/public.orders');
  });

  it("gives a table's backup URL under a file:// destination that decodes to its folder", () => {
    const url = tableUrl('file:///backups', { schema: 'public', name: 'a.b' });
    expect(url).toBe('file:///backups/public.a%252Eb');
    expect(fileURLToPath(url)).toBe('/backups/public.a%2Eb');
  });

  it('numbers export parts with five digits, more when needed', () => {
    expect(partName(0)).toBe('part-00000.parquet');
    expect(partName(123456)).toBe('part-123456.parquet');
  });

  it('knows an export part key, and only that', () => {
    expect(isPartKey('x/public.t/part-00003.parquet')).toBe(true);
    expect(isPartKey('x/public.t/part-123456.parquet')).toBe(true);
    expect(isPartKey('x/public.t/incr-00000000.parquet')).toBe(false);
    expect(isPartKey('x/public.t/part-0003.parquet')).toBe(false);
  });

  it('numbers incremental objects with eight digits, under their day folder when partitioned', () => {
    expect(incrementalObjectName(7)).toBe('incr-00000007.parquet');
    expect(incrementalObjectKey('p/s.t', 7)).toBe('p/s.t/incr-00000007.parquet');
    expect(incrementalObjectKey('p/s.t', 7, '2024-03-01')).toBe('p/s.t/dt=2024-03-01/incr-00000007.parquet');
  });

  it('names an object in its manifest relative to the table prefix', () => {
    expect(objectName('p/s.t', 'p/s.t/dt=2024-03-01/incr-00000007.parquet')).toBe(
      'dt=2024-03-01/incr-00000007.parquet',
    );
  });

  it('knows a manifest key at the top or under a prefix', () => {
    expect(isManifestKey('_manifest.json')).toBe(true);
    expect(isManifestKey('a/b/_manifest.json')).toBe(true);
    expect(isManifestKey('a/b/x_manifest.json')).toBe(false);
  });
});

describe('nextDay', () => {
  it('crosses month and year ends and leap days', () => {
    expect(nextDay('2024-02-28')).toBe('2024-02-29');
    expect(nextDay('2023-02-28')).toBe('2023-03-01');
    expect(nextDay('2024-12-31')).toBe('2025-01-01');
  });

  it('keeps years 0-99 as they are', () => {
    expect(nextDay('0099-12-31')).toBe('0100-01-01');
    expect(nextDay('0001-01-01')).toBe('0001-01-02');
  });
});

describe('Parquet footer metadata', () => {
  const t = { engine: 'postgres' as const, schema: 'public', name: 'orders' };

  it('says which version wrote the object and from which table', () => {
    expect(parquetMetadata(t)).toEqual({
      'tablevault.version': VERSION,
      'tablevault.source': '{"engine":"postgres","schema":"public","table":"orders"}',
    });
  });

  it('gives an incremental object its place, in a fixed key order (part of its bytes)', () => {
    const m = incrementalMetadata(t, {
      after: ['2024-03-01 00:00:00+00', '1'],
      schemaVersion: 2,
      keyColumns: ['at', 'id'],
      day: '2024-03-04',
    });
    expect(Object.entries(m)).toEqual([
      ['tablevault.version', VERSION],
      ['tablevault.source', '{"engine":"postgres","schema":"public","table":"orders"}'],
      ['tablevault.after', '["2024-03-01 00:00:00+00","1"]'],
      ['tablevault.schema_version', '2'],
      ['tablevault.key_columns', '["at","id"]'],
      ['tablevault.partition', 'dt=2024-03-04'],
      ['tablevault.cursor_from', '2024-03-04'],
      ['tablevault.cursor_before', '2024-03-05'],
    ]);
    expect(
      incrementalMetadata(t, { after: null, schemaVersion: 1, keyColumns: ['at', 'id'] })['tablevault.after'],
    ).toBe('null');
  });
});
