import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../src/source/columns.js';
import { keyPlan, type LoadBatch, type LoadPlan } from '../../src/source/loader.js';
import { InsertWriter } from '../../src/source/mysql/insert-rows.js';

const plan: LoadPlan = {
  table: { name: 't' },
  columns: [
    { name: 'v', dbType: 'text', nullable: true, kind: 'string' },
    { name: 'a', dbType: 'int', nullable: false, kind: 'int32' },
    { name: 'b', dbType: 'varchar(20)', nullable: false, kind: 'string' },
  ] satisfies ColumnSpec[],
  primaryKey: ['b', 'a'],
  cursor: 'v',
  conflict: 'newest',
};

const escape = (v: string) => `'${v.replace(/'/g, "''")}'`;

describe('InsertWriter.writeDelete (a tombstone without LOAD DATA)', () => {
  it('deletes every key once, in order, in statements that each stay near the statement size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.string({ unit: fc.constantFrom('x', "'", 'é', ' '), maxLength: 300 }), fc.integer()), {
          maxLength: 2000,
        }),
        async (keys) => {
          const batch: LoadBatch = {
            numRows: keys.length,
            cells: [(r) => keys[r]![0], (r) => String(keys[r]![1])],
            deletes: true,
          };
          const sent: string[] = [];
          await new InsertWriter(escape).writeDelete('`t`', keyPlan(plan), batch, async (s) => {
            sent.push(s);
          });
          const head = 'DELETE FROM `t` WHERE (`b`, `a`) IN (';
          for (const s of sent) {
            expect(s.startsWith(head) && s.endsWith(')')).toBe(true);
            expect(Buffer.byteLength(s)).toBeLessThan((1 << 16) + 2000);
          }
          const tuples = sent.flatMap((s) => [...s.slice(head.length, -1).matchAll(/\('((?:[^']|'')*)',(-?\d+)\)/g)]);
          expect(tuples.map((m) => [m[1]!.replace(/''/g, "'"), Number(m[2])])).toEqual(keys);
        },
      ),
      { numRuns: 50 },
    );
  });
});
