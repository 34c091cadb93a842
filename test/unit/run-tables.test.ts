import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStrategy } from '../../src/config/strategy.js';
import { planRunTables } from '../../src/plan/run-tables.js';
import type { Catalog } from '../../src/plan/tables.js';
import type { ColumnSpec, SourceTable } from '../../src/source/columns.js';
import type { Source } from '../../src/source/source.js';

const col = (name: string, kind: ColumnSpec['kind'], nullable = false): ColumnSpec => ({
  name,
  dbType: kind,
  nullable,
  kind,
});

const table = (name: string, columns: ColumnSpec[], primaryKey: string[]): SourceTable => ({
  engine: 'postgres',
  schema: 'shop',
  name,
  columns,
  primaryKey,
  estimatedRows: 0,
});

// orders has a cursor and a key; log has the cursor column but no key; tags has neither
const CATALOG: Catalog = {
  defaultSchema: 'public',
  wholeDatabase: '*.*',
  relations: [
    table('log', [col('msg', 'string'), col('updated_at', 'timestamptz')], []),
    table('orders', [col('id', 'int32'), col('updated_at', 'timestamptz')], ['id']),
    table('tags', [col('id', 'int32')], ['id']),
  ].map((t) => ({ table: t, kind: 'table' as const })),
};

/** Just what planning a run asks of a source: its catalog, and SQL for a NOT NULL test. */
const source = {
  engine: 'postgres',
  catalog: () => Promise.resolve(CATALOG),
  isNotNullSql: (c: string) => `${c} IS NOT NULL`,
} as unknown as Source;

function strategy(tables: string): ReturnType<typeof loadStrategy> {
  const file = join(mkdtempSync(join(tmpdir(), 'tv-run-tables-')), 'strategy.yaml');
  writeFileSync(file, `source: postgres://db/shop\ndestination: file:///tmp/x\ntables:\n${tables}`);
  return loadStrategy(file);
}

const plan = (tables: string) => planRunTables(strategy(tables), source, { prefix: '', destination: 'file:///tmp/x' });

describe('planRunTables with an incremental pattern', () => {
  it('backs up a matched table without a primary key full under when_no_cursor: full', async () => {
    const { tables } = await plan(
      '  - table: shop.*\n    strategy: incremental\n    cursor: updated_at\n    when_no_cursor: full\n',
    );
    expect(tables.map((t) => [t.name, t.settings.strategy])).toEqual([
      ['shop.log', 'full'],
      ['shop.orders', 'incremental'],
      ['shop.tags', 'full'],
    ]);
    expect(tables[0]!.why).toMatch(/no primary key: shop\.log has none to read it incrementally by, so full/);
  });

  it('skips a matched table without a primary key under when_no_cursor: skip', async () => {
    const { tables } = await plan(
      '  - table: shop.*\n    strategy: incremental\n    cursor: updated_at\n    when_no_cursor: skip\n',
    );
    expect(tables.find((t) => t.name === 'shop.log')!.skipped).toMatch(/no primary key/);
  });

  it('fails on a matched table without a primary key under when_no_cursor: fail, saying how to give it one', async () => {
    await expect(plan('  - table: shop.*\n    strategy: incremental\n    cursor: updated_at\n')).rejects.toThrow(
      /table shop\.log: no primary key: .*; name it in an entry of its own with primary_key: \[columns\], set when_no_cursor: full or skip, or exclude the table/,
    );
  });

  it('still asks a table named exactly for its primary_key', async () => {
    await expect(plan('  - table: shop.log\n    strategy: incremental\n    cursor: updated_at\n')).rejects.toThrow(
      /table shop\.log: shop\.log has no primary key; set primary_key/,
    );
  });
});
