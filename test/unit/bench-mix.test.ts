import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIX, describeMix, mixTables, parseMix, type TableGroup } from '../../bench/database-mix.js';

const group = fc
  .record({ count: fc.integer({ min: 1, max: 300 }), minRows: fc.integer({ min: 0, max: 1000 }), span: fc.nat(500) })
  .map(({ count, minRows, span }): TableGroup => ({ count, minRows, maxRows: minRows + span }));
const spec = (groups: TableGroup[]) =>
  groups.map((g) => `${g.count}x${g.minRows}${g.maxRows === g.minRows ? '' : `-${g.maxRows}`}`).join(',');
// groups of distinct rows, as parseMix requires
const groups = fc.uniqueArray(group, { minLength: 1, maxLength: 6, selector: (g) => `${g.minRows}-${g.maxRows}` });

describe('the database bench mix', () => {
  it('reads the default mix as 244 tables of 2.4M rows, 200 of them small', () => {
    const tables = mixTables(parseMix(DEFAULT_MIX));
    expect(tables).toHaveLength(244);
    expect(tables.filter((t) => t.small)).toHaveLength(200);
    expect(tables.reduce((n, t) => n + t.rows, 0)).toBeGreaterThan(2_400_000);
  });
  it('names each table for its group and its number in it', () => {
    expect(mixTables(parseMix('2x500000,1x0,2x1-100')).map((t) => t.name)).toEqual([
      'n500000_1',
      'n500000_2',
      'empty_1',
      'r1_100_1',
      'r1_100_2',
    ]);
  });
  it('says what to write for a malformed group', () => {
    expect(() => parseMix('4x500k')).toThrow(/"4x500k" is not COUNTxROWS or COUNTxMIN-MAX/);
  });
  it('refuses two groups of the same rows, whose names would collide', () => {
    expect(() => parseMix('2x10,3x10')).toThrow(/add their counts into one/);
  });
  it('refuses a range whose MIN is above its MAX', () => {
    expect(() => parseMix('2x100-1')).toThrow(/MIN ≤ MAX/);
  });
  it('gives each group count tables, each within MIN-MAX, under distinct names (property)', () => {
    fc.assert(
      fc.property(groups, (gs) => {
        const tables = mixTables(parseMix(spec(gs)));
        expect(tables).toHaveLength(gs.reduce((n, g) => n + g.count, 0));
        expect(new Set(tables.map((t) => t.name)).size).toBe(tables.length);
        let at = 0;
        for (const g of gs)
          for (const t of tables.slice(at, (at += g.count))) {
            expect(t.rows).toBeGreaterThanOrEqual(g.minRows);
            expect(t.rows).toBeLessThanOrEqual(g.maxRows);
          }
      }),
    );
  });
  it('means the same tables every time it is read, and describes them by their total (property)', () => {
    fc.assert(
      fc.property(groups, (gs) => {
        const tables = mixTables(parseMix(spec(gs)));
        expect(mixTables(parseMix(spec(gs)))).toEqual(tables);
        const total = tables.reduce((n, t) => n + t.rows, 0);
        expect(describeMix(parseMix(spec(gs)))).toContain(`${total.toLocaleString('en-US')} rows`);
      }),
    );
  });
});
