import type { ColumnSpec, ScalarKind } from '../columns.js';

const SCALARS: Record<string, ScalarKind> = {
  bool: 'bool',
  int2: 'int16',
  int4: 'int32',
  int8: 'int64',
  float4: 'float32',
  float8: 'float64',
  text: 'string',
  varchar: 'string',
  bpchar: 'string',
  name: 'string',
  citext: 'string',
  uuid: 'string',
  json: 'json',
  jsonb: 'json',
  bytea: 'binary',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
};

export interface PgColumnRow {
  name: string;
  notnull: boolean;
  typname: string;
  typtype: string;
  formatted: string;
  typmod: number;
  elemtypname: string | null;
  elemtyptype: string | null;
  ndims: number;
}

/** NUMERIC's typmod packs precision and scale; -1 means unconstrained (exported as an exact string). */
function numericSpec(typmod: number): { precision: number; scale: number } | undefined {
  if (typmod < 4) return undefined;
  const precision = ((typmod - 4) >> 16) & 0xffff;
  const scale = (typmod - 4) & 0x7ff;
  if (precision < 1 || precision > 38 || scale > precision) return undefined;
  return { precision, scale };
}

function scalar(
  name: string,
  dbType: string,
  typname: string,
  typtype: string,
  typmod: number,
  nullable: boolean,
): ColumnSpec {
  if (typtype === 'e') return { name, dbType, nullable, kind: 'string' };
  if (typname === 'numeric') {
    const dec = numericSpec(typmod);
    return dec ? { name, dbType, nullable, kind: 'decimal', ...dec } : { name, dbType, nullable, kind: 'string' };
  }
  const kind = SCALARS[typname];
  return kind ? { name, dbType, nullable, kind } : { name, dbType, nullable, kind: 'string', unknownType: true };
}

/** PostgreSQL column → tablevault column (see the type table in README). */
export function mapPgColumn(r: PgColumnRow): ColumnSpec {
  const nullable = !r.notnull;
  if (r.elemtypname !== null && r.ndims <= 1) {
    const element = scalar('element', r.elemtypname, r.elemtypname, r.elemtyptype ?? 'b', r.typmod, true);
    if (!element.unknownType) return { name: r.name, dbType: r.formatted, nullable, kind: 'list', element };
  }
  if (r.elemtypname !== null) return { name: r.name, dbType: r.formatted, nullable, kind: 'string', unknownType: true };
  return scalar(r.name, r.formatted, r.typname, r.typtype, r.typmod, nullable);
}
