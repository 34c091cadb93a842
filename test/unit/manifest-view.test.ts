import { describe, expect, it } from 'vitest';
import { INCREMENTAL_FORMAT, type IncrementalManifest } from '../../src/manifest/types.js';
import { backupView } from '../../src/manifest/view.js';

const manifest = (keyColumns: string[], primaryKey?: string[]): IncrementalManifest => ({
  format: INCREMENTAL_FORMAT,
  tablevaultVersion: '0.1.0',
  source: { engine: 'postgres', schema: 'public', table: 't' },
  columns: [],
  keyColumns,
  ...(primaryKey ? { primaryKey } : {}),
  watermark: null,
  rows: 0,
  files: [],
  updatedAt: '2026-12-01T00:00:00.000Z',
});

describe('backupView of an incremental manifest', () => {
  it('takes the primary key the manifest records, cursor included', () => {
    expect(backupView(manifest(['at', 'id'], ['at', 'id'])).primaryKey).toEqual(['at', 'id']);
  });

  it('reads an older manifest key as the key columns after the cursor', () => {
    expect(backupView(manifest(['updated_at', 'id'])).primaryKey).toEqual(['id']);
  });

  it('reads an older manifest whose only key column is the cursor as keyed by the cursor', () => {
    expect(backupView(manifest(['id'])).primaryKey).toEqual(['id']);
  });
});
