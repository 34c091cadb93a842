import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeDiff, diffSchemas, isEmptyDiff, isWidening } from '../../src/backup/schema.js';
import type { ColumnKind, ColumnSpec } from '../../src/source/columns.js';

const col = (name: string, kind: ColumnKind, dbType: string = kind, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  name,
  dbType,
  nullable: true,
  kind,
  ...extra,
});
const dec = (name: string, precision: number, scale: number) =>
  col(name, 'decimal', `numeric(${precision},${scale})`, { precision, scale });

describe('isWidening', () => {
  it('widens signed integers to a wider signed integer, never to a narrower one', () => {
    expect(isWidening(col('c', 'int32'), col('c', 'int64'))).toBe(true);
    expect(isWidening(col('c', 'int64'), col('c', 'int32'))).toBe(false);
  });

  it('widens unsigned integers to wider unsigned ones, and to a signed one of twice the width', () => {
    expect(isWidening(col('c', 'uint16'), col('c', 'uint64'))).toBe(true);
    expect(isWidening(col('c', 'uint32'), col('c', 'int64'))).toBe(true);
    expect(isWidening(col('c', 'uint32'), col('c', 'int32'))).toBe(false);
  });

  it('widens float32 to float64 only', () => {
    expect(isWidening(col('c', 'float32'), col('c', 'float64'))).toBe(true);
    expect(isWidening(col('c', 'float64'), col('c', 'float32'))).toBe(false);
  });

  it('widens varchar(n) to a longer varchar or to text, not to a shorter one, and text never to varchar', () => {
    expect(isWidening(col('c', 'string', 'varchar(10)'), col('c', 'string', 'varchar(20)'))).toBe(true);
    expect(isWidening(col('c', 'string', 'varchar(10)'), col('c', 'string', 'text'))).toBe(true);
    expect(isWidening(col('c', 'string', 'varchar(20)'), col('c', 'string', 'varchar(10)'))).toBe(false);
    expect(isWidening(col('c', 'string', 'text'), col('c', 'string', 'varchar(100)'))).toBe(false);
  });

  it('widens a decimal when both its scale and its integer digits fit', () => {
    expect(isWidening(dec('c', 8, 2), dec('c', 12, 3))).toBe(true);
    expect(isWidening(dec('c', 8, 2), dec('c', 8, 3))).toBe(false); // one integer digit fewer
    expect(isWidening(dec('c', 8, 2), dec('c', 12, 1))).toBe(false); // a fraction digit lost
  });

  it('widens a bounded decimal to an unbounded numeric (a string column)', () => {
    expect(isWidening(dec('c', 8, 2), col('c', 'string', 'numeric'))).toBe(true);
  });

  it('widens a list by its element', () => {
    const list = (k: ColumnKind) => col('c', 'list', `${k}[]`, { element: col('element', k) });
    expect(isWidening(list('int32'), list('int64'))).toBe(true);
    expect(isWidening(list('int64'), list('int32'))).toBe(false);
  });

  it('does not take a change of meaning for a widening', () => {
    expect(isWidening(col('c', 'string', 'varchar(20)'), col('c', 'int32'))).toBe(false);
    expect(isWidening(col('c', 'timestamptz'), col('c', 'date'))).toBe(false);
  });

  it('is reflexive on every integer kind and transitive along the integer order', () => {
    const kinds: ColumnKind[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];
    const k = fc.constantFrom(...kinds);
    fc.assert(
      fc.property(k, k, k, (a, b, c) => {
        expect(isWidening(col('x', a), col('x', a))).toBe(true);
        if (isWidening(col('x', a), col('x', b)) && isWidening(col('x', b), col('x', c)))
          expect(isWidening(col('x', a), col('x', c))).toBe(true);
      }),
    );
  });
});

describe('diffSchemas', () => {
  const before = [
    col('id', 'int32'),
    col('v', 'int32'),
    col('name', 'string', 'varchar(10)'),
    col('note', 'string', 'text'),
    dec('amount', 8, 2),
  ];

  it('finds nothing between a schema and itself', () => {
    const d = diffSchemas(before, before, ['id'], ['id']);
    expect(d).toEqual({ added: [], dropped: [], widened: [], incompatible: [] });
    expect(isEmptyDiff(d)).toBe(true);
  });

  it('lists added and dropped columns by name, in column order', () => {
    const now = [
      col('id', 'int32'),
      col('v', 'int32'),
      col('name', 'string', 'varchar(10)'),
      dec('amount', 8, 2),
      col('extra', 'string', 'text'),
      col('more', 'int64'),
    ];
    const d = diffSchemas(before, now, ['id'], ['id']);
    expect(d.added).toEqual(['extra', 'more']);
    expect(d.dropped).toEqual(['note']);
  });

  it('sorts changed types into widened and incompatible, with the database type names', () => {
    const now = [
      col('id', 'int32'),
      col('v', 'int64', 'int8'),
      col('name', 'int32', 'int4'),
      col('note', 'string', 'text'),
      dec('amount', 12, 3),
    ];
    const d = diffSchemas(
      before.map((c) => (c.name === 'v' ? { ...c, dbType: 'int4' } : c)),
      now,
      ['id'],
      ['id'],
    );
    expect(d.widened).toEqual([
      { column: 'v', from: 'int4', to: 'int8' },
      { column: 'amount', from: 'numeric(8,2)', to: 'numeric(12,3)' },
    ]);
    expect(d.incompatible).toEqual([{ column: 'name', from: 'varchar(10)', to: 'int4' }]);
  });

  it('reports changed key columns, and not unchanged ones', () => {
    expect(diffSchemas(before, before, ['at', 'id'], ['at', 'v']).keyChanged).toEqual({
      from: ['at', 'id'],
      to: ['at', 'v'],
    });
    expect(diffSchemas(before, before, ['at', 'id'], ['at', 'id']).keyChanged).toBeUndefined();
  });

  it('does not report a key change when the earlier keys are unknown', () => {
    expect(diffSchemas(before, before, undefined, ['id']).keyChanged).toBeUndefined();
  });

  it('tells key lists apart that only join to the same text', () => {
    expect(diffSchemas(before, before, ['a,b'], ['a', 'b']).keyChanged).toEqual({ from: ['a,b'], to: ['a', 'b'] });
  });

  it('adds exactly the columns only the new schema has and drops exactly those only the old one has', () => {
    const names = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 6 });
    fc.assert(
      fc.property(names, names, (x, y) => {
        const d = diffSchemas(
          x.map((n) => col(n, 'int32')),
          y.map((n) => col(n, 'int32')),
          ['k'],
          ['k'],
        );
        expect(d.added).toEqual(y.filter((n) => !x.includes(n)));
        expect(d.dropped).toEqual(x.filter((n) => !y.includes(n)));
        expect(d.widened).toEqual([]);
        expect(d.incompatible).toEqual([]);
        expect(isEmptyDiff(d)).toBe(x.length === y.length && x.every((n) => y.includes(n)));
      }),
    );
  });
});

describe('isEmptyDiff', () => {
  const empty = { added: [], dropped: [], widened: [], incompatible: [] };

  it('is false for any one kind of change', () => {
    expect(isEmptyDiff({ ...empty, added: ['a'] })).toBe(false);
    expect(isEmptyDiff({ ...empty, dropped: ['a'] })).toBe(false);
    expect(isEmptyDiff({ ...empty, widened: [{ column: 'a', from: 'int4', to: 'int8' }] })).toBe(false);
    expect(isEmptyDiff({ ...empty, incompatible: [{ column: 'a', from: 'text', to: 'int4' }] })).toBe(false);
    expect(isEmptyDiff({ ...empty, keyChanged: { from: ['a'], to: ['b'] } })).toBe(false);
  });
});

describe('describeDiff', () => {
  it('describes nothing for an empty diff', () => {
    expect(describeDiff({ added: [], dropped: [], widened: [], incompatible: [] })).toEqual([]);
  });

  it('gives one line per change: added, dropped, widened, incompatible, then the key', () => {
    expect(
      describeDiff({
        added: ['extra'],
        dropped: ['note'],
        widened: [{ column: 'v', from: 'int4', to: 'int8' }],
        incompatible: [{ column: 'code', from: 'varchar(20)', to: 'integer' }],
        keyChanged: { from: ['at', 'id'], to: ['at', 'v'] },
      }),
    ).toEqual([
      'column extra added',
      'column note dropped',
      'column v widened from int4 to int8',
      'column code changed from varchar(20) to integer, which not every old value fits',
      'key columns (cursor, primary key) changed from (at, id) to (at, v)',
    ]);
  });
});
