/**
 * The engine-neutral description of a source column: what Arrow/Parquet type it becomes.
 * Readers produce the column's value as the bytes of the database's text format; the
 * builder for `kind` parses them (see src/arrow/builders.ts).
 */
export type ScalarKind =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'decimal'
  | 'string'
  | 'json'
  | 'binary'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz';

export type ColumnKind = ScalarKind | 'list';

/** Kinds whose Arrow values are JS numbers or bigints. */
export const INTEGER_KINDS: readonly ColumnKind[] = [
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
];
export const FLOAT_KINDS: readonly ColumnKind[] = ['float32', 'float64'];
/** Kinds written as plain numbers in SQL and JSON text (no quotes). */
export const NUMBER_KINDS: ReadonlySet<ColumnKind> = new Set([...INTEGER_KINDS, ...FLOAT_KINDS, 'decimal']);

/** How a column's raw value is spelled by its engine, where engines differ. */
export type TextDialect = 'postgres' | 'mysql';

export interface ColumnSpec {
  name: string;
  /** The type as the database names it, e.g. `numeric(12,2)` or `tinyint(1) unsigned`. */
  dbType: string;
  nullable: boolean;
  kind: ColumnKind;
  /** decimal only */
  precision?: number;
  scale?: number;
  /** list only: the element column (its name is "element"). */
  element?: ColumnSpec;
  /** Set when the type is not one tablevault knows: exported as its text form. */
  unknownType?: boolean;
}

export interface TableRef {
  schema?: string;
  name: string;
}

export interface SourceTable {
  engine: TextDialect;
  schema: string;
  name: string;
  columns: ColumnSpec[];
  /** Primary key column names in key order; empty when the table has none. */
  primaryKey: string[];
  /** The planner's row estimate, for progress only; may be wrong or 0. */
  estimatedRows: number;
}

export function qualifiedName(t: { schema: string; name: string }): string {
  return `${t.schema}.${t.name}`;
}

/** `"schema"."name"`, quotes doubled: what parseTableRef reads back as exactly this table, whatever its name holds. */
export function quotedName(t: { schema: string; name: string }): string {
  return `"${t.schema.replaceAll('"', '""')}"."${t.name.replaceAll('"', '""')}"`;
}

/** `schema.table` or `table`, split on the first unquoted dot. */
export function parseTableRef(text: string): TableRef {
  const trimmed = text.trim();
  if (!trimmed) throw new Error('empty table name');
  const parts: string[] = [];
  let cur = '';
  // the quote that opened the part: inside "…" a backtick is a character of the name, and inside `…` a double quote
  let quote: string | undefined;
  for (let i = 0; i < trimmed.length; i++) {
    const ch = trimmed[i]!;
    if (quote ? ch === quote : ch === '"' || ch === '`') {
      if (quote && trimmed[i + 1] === ch) {
        cur += ch;
        i++;
        continue;
      }
      quote = quote ? undefined : ch;
      continue;
    }
    if (ch === '.' && !quote) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  if (quote || parts.length > 2 || parts.some((p) => p === ''))
    throw new Error(`"${text}" is not a table name: use table or schema.table`);
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { name: parts[0]! };
}
