import type { ColumnSpec, ScalarKind } from '../columns.js';

export interface MysqlColumnRow {
  name: string;
  dataType: string;
  columnType: string;
  nullable: string;
  precision: number | null;
  scale: number | null;
}

const SIMPLE: Record<string, ScalarKind> = {
  float: 'float32',
  double: 'float64',
  real: 'float64',
  char: 'string',
  varchar: 'string',
  tinytext: 'string',
  text: 'string',
  mediumtext: 'string',
  longtext: 'string',
  enum: 'string',
  set: 'string',
  uuid: 'string',
  inet4: 'string',
  inet6: 'string',
  json: 'json',
  binary: 'binary',
  varbinary: 'binary',
  tinyblob: 'binary',
  blob: 'binary',
  mediumblob: 'binary',
  longblob: 'binary',
  date: 'date',
  time: 'time',
  datetime: 'timestamp',
  timestamp: 'timestamptz',
  year: 'int16',
};

const INTS: Record<string, [signed: ScalarKind, unsigned: ScalarKind]> = {
  tinyint: ['int8', 'uint8'],
  smallint: ['int16', 'uint16'],
  mediumint: ['int32', 'int32'],
  int: ['int32', 'uint32'],
  integer: ['int32', 'uint32'],
  bigint: ['int64', 'uint64'],
};

const SPATIAL = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
]);

/** MySQL/MariaDB column → tablevault column (see the type table in README). */
export function mapMysqlColumn(r: MysqlColumnRow): ColumnSpec {
  const dataType = r.dataType.toLowerCase();
  const columnType = r.columnType.toLowerCase();
  const base = { name: r.name, dbType: r.columnType, nullable: r.nullable === 'YES' };
  if (dataType === 'tinyint' && /^tinyint\(1\)/.test(columnType)) return { ...base, kind: 'bool' };
  const ints = INTS[dataType];
  if (ints) return { ...base, kind: columnType.includes('unsigned') ? ints[1] : ints[0] };
  if (dataType === 'decimal' || dataType === 'numeric') {
    const precision = r.precision ?? 10;
    const scale = r.scale ?? 0;
    return precision <= 38 ? { ...base, kind: 'decimal', precision, scale } : { ...base, kind: 'string' };
  }
  const kind = SIMPLE[dataType];
  if (kind) return { ...base, kind };
  if (dataType === 'bit' || SPATIAL.has(dataType)) return { ...base, kind: 'binary', unknownType: true };
  return { ...base, kind: 'string', unknownType: true };
}
