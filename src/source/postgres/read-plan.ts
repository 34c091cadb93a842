import pg from 'pg';
import {
  PG_BINARY_KINDS,
  createBuilder,
  createPgBinaryBuilder,
  type ColumnBuilder,
  type PgBinaryWire,
} from '../../arrow/builders.js';
import type { SourceTable } from '../columns.js';
import type { KeyForm } from './copy-binary.js';
import { quotePgIdent } from './quote.js';
import { readText } from './text.js';

/** Base types read in PostgreSQL's binary COPY form, by pg_type.typname. */
const BINARY_WIRES: Record<string, PgBinaryWire> = {
  bool: 'bool',
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  float4: 'float4',
  float8: 'float8',
  numeric: 'numeric',
  text: 'varlena',
  varchar: 'varlena',
  bpchar: 'varlena',
  name: 'varlena',
  json: 'varlena',
  bytea: 'varlena',
  jsonb: 'jsonb',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamp',
};

/** How one read decodes its COPY: the select list, one builder per column, and the key columns' text forms. */
export interface ReadPlan {
  binary: boolean;
  selectList: string;
  builders?: ColumnBuilder[];
  keyForms: KeyForm[];
}

/** A row of planQuery's result. */
export interface ColumnTypeRow {
  name: string;
  typname: string;
  textcast: string | null;
}

/**
 * The query readPlan reads: each column's base type and how it casts to text. It is sent in the
 * read's first round trip (see beginRead), so its table is a literal; to_regclass makes a table
 * dropped since it was described no rows here (the read's COPY then says it is gone) rather
 * than an error that could not be told from the snapshot's.
 */
export function planQuery(table: SourceTable): string {
  const name = pg.Client.prototype.escapeLiteral(`${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`);
  return `SELECT a.attname AS name, bt.typname AS typname,
         (SELECT c.castmethod::text FROM pg_cast c WHERE c.castsource = bt.oid AND c.casttarget = 'text'::regtype) AS textcast
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  WHERE a.attrelid = to_regclass(${name}) AND a.attnum > 0 AND NOT a.attisdropped`;
}

/**
 * Binary COPY when every column has a binary builder or an exact text form by `::text`: types
 * without a builder (uuid, arrays, enums, intervals, …) are cast to text in the SELECT, which
 * binary COPY then sends as their output function wrote them. A key column is read as an
 * integer or as text, so its last value can be put back into the next page's WHERE. Types whose
 * cast to text is not their output (inet, "char") make the whole read use the text format.
 * `rows`: planQuery's result.
 */
export function readPlan(rows: ColumnTypeRow[], table: SourceTable, keyIdx: number[], capacity: number): ReadPlan {
  const types = new Map(rows.map((r) => [r.name, r]));
  const text: ReadPlan = {
    binary: false,
    selectList: table.columns.map((c) => quotePgIdent(c.name)).join(', '),
    keyForms: [],
  };
  const select: string[] = [];
  const builders: ColumnBuilder[] = [];
  const wires: Array<PgBinaryWire | undefined> = [];
  for (const [i, c] of table.columns.entries()) {
    const t = types.get(c.name);
    if (!t) return text;
    let wire: PgBinaryWire | undefined = BINARY_WIRES[t.typname];
    if (wire && !PG_BINARY_KINDS[wire].includes(c.kind)) wire = undefined;
    if (
      keyIdx.includes(i) &&
      !(wire === 'int2' || wire === 'int4' || wire === 'int8' || (wire === 'varlena' && c.kind !== 'binary'))
    )
      wire = undefined;
    wires.push(wire);
    if (wire) {
      select.push(quotePgIdent(c.name));
      builders.push(createPgBinaryBuilder(c, wire, capacity));
    } else {
      if (t.textcast === 'f' && t.typname !== 'bool') return text; // bool::text is 'true'/'false', which the text builder reads
      select.push(`${quotePgIdent(c.name)}::text`);
      builders.push(createBuilder(c, readText, capacity));
    }
  }
  const keyForms = keyIdx.map((i): KeyForm => {
    const w = wires[i];
    return w === 'int2' || w === 'int4' || w === 'int8' ? w : 'text';
  });
  return { binary: true, selectList: select.join(', '), builders, keyForms };
}
