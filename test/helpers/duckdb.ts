/**
 * An independent Parquet reader for tests: DuckDB (its own Parquet implementation, nothing shared
 * with what tablevault writes with) reads local files and every value is converted to a plain,
 * comparable JS value.
 *
 * Value mapping (by DuckDB type of the column as read from the Parquet file):
 *
 *   NULL (any type)                     → null
 *   BOOLEAN                             → boolean
 *   TINYINT/SMALLINT/INTEGER            → number
 *   UTINYINT/USMALLINT/UINTEGER         → number
 *   BIGINT/UBIGINT/HUGEINT/UHUGEINT     → bigint
 *   FLOAT/DOUBLE                        → number (a FLOAT is the exact double of the float32,
 *                                         i.e. equal to Math.fround(x)); NaN/±Infinity as such
 *   DECIMAL(p,s)                        → string, exactly s fraction digits, as DuckDB's
 *                                         CAST(x AS VARCHAR) prints it: '-12.3400', '0.50', '7'
 *   VARCHAR/ENUM/UUID                   → string
 *   BLOB                                → Uint8Array (a copy)
 *   DATE                                → 'YYYY-MM-DD'
 *   TIME                                → 'HH:MM:SS.ffffff' (always 6 fraction digits; 24:00:00 possible)
 *   TIME_NS                             → 'HH:MM:SS.fffffffff' (9 digits)
 *   TIME WITH TIME ZONE                 → 'HH:MM:SS.ffffff+HH:MM' (offset as stored)
 *   TIMESTAMP (and _S, _MS)             → 'YYYY-MM-DD HH:MM:SS.ffffff' (always 6 fraction digits)
 *   TIMESTAMP_NS                        → 'YYYY-MM-DD HH:MM:SS.fffffffff' (9 digits)
 *   TIMESTAMP WITH TIME ZONE            → the same string as TIMESTAMP, of the instant in UTC,
 *                                         without an offset suffix
 *   LIST/ARRAY                          → JS array of converted elements
 *   STRUCT                              → plain object of converted fields
 *   MAP                                 → array of { key, value } (converted)
 *   UNION                               → { tag, value } (converted)
 *   INTERVAL/BIT/other                  → DuckDB's own string form
 *
 * Dates and timestamps are formatted here from the raw day/microsecond counts (proleptic Gregorian
 * calendar, no JS Date, no time zone involved), so they do not depend on the machine's TZ and are
 * right for any year. Years are zero-padded to 4 digits ('0999-01-01'); years before 1 AD follow
 * DuckDB's own convention: DATE '0044-03-15 (BC)', TIMESTAMP '0044-03-15 (BC) 12:00:00.500000'
 * (year 0 of the astronomical calendar is '0001 (BC)'). ±infinity dates/timestamps come out as
 * 'infinity' / '-infinity'.
 */
import {
  DuckDBArrayValue,
  DuckDBBitValue,
  DuckDBBlobValue,
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBIntervalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimeNSValue,
  DuckDBTimeTZValue,
  DuckDBTimeValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUnionValue,
  DuckDBUUIDValue,
  type DuckDBValue,
} from '@duckdb/node-api';

/** Runs `fn` on a fresh in-memory DuckDB (no extension auto-install/-load: works offline), closing it afterwards. */
export async function withDuckDB<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    threads: '2',
  });
  const conn = await instance.connect();
  try {
    // Only affects SQL the caller writes (e.g. an orderBy on a timestamptz cast); the values themselves are
    // formatted in JS. ICU is statically linked in @duckdb/node-api builds; ignore it if it is not.
    try {
      await conn.run("SET TimeZone = 'UTC'");
    } catch {
      /* no ICU: TIMESTAMPTZ casts use UTC anyway */
    }
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** `read_parquet(...)` over one path/glob or a list of paths. */
/** Options of DuckDB's read_parquet: union_by_name (files with different columns), hive_partitioning (key=value folders). */
export interface ReadParquetOptions {
  unionByName?: boolean;
  hivePartitioning?: boolean;
}

function readParquetSql(files: string[] | string, o: ReadParquetOptions = {}): string {
  const opts = `${o.unionByName ? ', union_by_name = true' : ''}${o.hivePartitioning !== undefined ? `, hive_partitioning = ${o.hivePartitioning}` : ''}`;
  if (typeof files === 'string') return `read_parquet(${sqlString(files)}${opts})`;
  if (files.length === 0) throw new Error('readParquet: no files given');
  return `read_parquet([${files.map(sqlString).join(', ')}]${opts})`;
}

/**
 * All rows of the Parquet file(s) (a path, a glob, or a list of paths), values converted as described at
 * the top of this file. `orderBy` is a SQL fragment put after ORDER BY (e.g. 'id' or 'id, name DESC').
 */
export async function readParquetRows(
  files: string[] | string,
  opts: { orderBy?: string } & ReadParquetOptions = {},
): Promise<Record<string, unknown>[]> {
  const sql = `SELECT * FROM ${readParquetSql(files, opts)}${opts.orderBy ? ` ORDER BY ${opts.orderBy}` : ''}`;
  return withDuckDB(async (c) => {
    const reader = await c.runAndReadAll(sql);
    return reader.getRowObjects().map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) out[k] = toJs(v);
      return out;
    });
  });
}

/** DuckDB's DESCRIBE of the file: column names and DuckDB type names ('BIGINT', 'DECIMAL(38,10)', 'INTEGER[]', 'TIMESTAMP WITH TIME ZONE', ...). */
export async function describeParquet(file: string): Promise<Array<{ name: string; type: string }>> {
  return withDuckDB(async (c) => {
    const reader = await c.runAndReadAll(`DESCRIBE SELECT * FROM ${readParquetSql(file)}`);
    return reader.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  });
}

/** Each top-level column's data encodings in the file's first row group, e.g. { id: 'RLE, DELTA_BINARY_PACKED' }. */
export async function parquetEncodings(file: string): Promise<Record<string, string>> {
  return withDuckDB(async (c) => {
    const reader = await c.runAndReadAll(
      `SELECT path_in_schema AS col, encodings FROM parquet_metadata(${sqlString(file)}) WHERE row_group_id = 0`,
    );
    return Object.fromEntries(reader.getRowObjects().map((r) => [String(r.col), String(r.encodings)]));
  });
}

/** The codecs of the file's column chunks as DuckDB names them (e.g. ['ZSTD'], ['LZ4_RAW'], ['UNCOMPRESSED']), distinct and sorted. */
export async function parquetCodecs(file: string): Promise<string[]> {
  return withDuckDB(async (c) => {
    const reader = await c.runAndReadAll(
      `SELECT DISTINCT compression FROM parquet_metadata(${sqlString(file)}) ORDER BY compression`,
    );
    return reader.getRowObjects().map((r) => String(r.compression));
  });
}

/** The file's key/value metadata (footer), keys and values decoded as UTF-8, in file order. */
export async function parquetKeyValueMetadata(file: string): Promise<Array<{ key: string; value: string }>> {
  return withDuckDB(async (c) => {
    const reader = await c.runAndReadAll(`SELECT key, value FROM parquet_kv_metadata(${sqlString(file)})`);
    return reader.getRowObjects().map((r) => ({ key: blobText(r.key), value: blobText(r.value) }));
  });
}

/** Total number of rows in the Parquet file(s) (path, glob, or list). */
export async function countParquetRows(files: string[] | string): Promise<number> {
  return withDuckDB(async (c) => {
    const reader = await c.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${readParquetSql(files)}`);
    return Number(reader.getRowObjects()[0]!.n);
  });
}

function blobText(v: DuckDBValue): string {
  if (v === null) return '';
  if (v instanceof DuckDBBlobValue) return Buffer.from(v.bytes).toString('utf8');
  return String(v);
}

// ----------------------------------------------------------------------------- value conversion

/** Converts one DuckDB value (as returned by DuckDBResultReader.getRowObjects) to the plain JS form above. */
export function toJs(v: DuckDBValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string')
    return v;
  if (v instanceof DuckDBDecimalValue) return formatDecimal(v.value, v.scale);
  if (v instanceof DuckDBBlobValue) return new Uint8Array(v.bytes);
  if (v instanceof DuckDBDateValue) return formatDate(v.days);
  if (v instanceof DuckDBTimeValue) return formatTimeOfDay(v.micros, 6);
  if (v instanceof DuckDBTimeNSValue) return formatTimeOfDay(v.nanos, 9);
  if (v instanceof DuckDBTimeTZValue) return `${formatTimeOfDay(v.micros, 6)}${formatOffset(v.offset)}`;
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return formatTimestamp(v.micros, 6);
  if (v instanceof DuckDBTimestampMillisecondsValue) return isInf(v.millis) ?? formatTimestamp(v.millis * 1000n, 6);
  if (v instanceof DuckDBTimestampSecondsValue) return isInf(v.seconds) ?? formatTimestamp(v.seconds * 1_000_000n, 6);
  if (v instanceof DuckDBTimestampNanosecondsValue) return formatTimestamp(v.nanos, 9);
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(toJs);
  if (v instanceof DuckDBStructValue)
    return Object.fromEntries(Object.entries(v.entries).map(([k, x]) => [k, toJs(x)]));
  if (v instanceof DuckDBMapValue) return v.entries.map((e) => ({ key: toJs(e.key), value: toJs(e.value) }));
  if (v instanceof DuckDBUnionValue) return { tag: v.tag, value: toJs(v.value) };
  if (v instanceof DuckDBUUIDValue || v instanceof DuckDBIntervalValue || v instanceof DuckDBBitValue)
    return v.toString();
  return String(v);
}

const INT64_INF = 2n ** 63n - 1n;
const DATE_INF = 2 ** 31 - 1;

function isInf(raw: bigint): string | undefined {
  if (raw === INT64_INF) return 'infinity';
  if (raw === -INT64_INF) return '-infinity';
  return undefined;
}

/** An unscaled integer and a scale → '-123.4500' (exactly `scale` fraction digits). */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString();
  if (scale === 0) return `${neg ? '-' : ''}${digits}`;
  const padded = digits.padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/** Days since 1970-01-01 → proleptic Gregorian (astronomical year, month 1-12, day 1-31). H. Hinnant's civil_from_days. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

/** 'YYYY-MM-DD', and the ' (BC)' marker for astronomical years <= 0 (separate so timestamps can place it like DuckDB). */
function dateParts(days: number): { ymd: string; bc: boolean } {
  const { year, month, day } = civilFromDays(days);
  const bc = year <= 0;
  return { ymd: `${pad(bc ? 1 - year : year, 4)}-${pad(month, 2)}-${pad(day, 2)}`, bc };
}

export function formatDate(days: number): string {
  if (days === DATE_INF) return 'infinity';
  if (days === -DATE_INF) return '-infinity';
  const { ymd, bc } = dateParts(days);
  return bc ? `${ymd} (BC)` : ymd;
}

/** Units since midnight (micro- or nanoseconds, `digits` = 6 or 9) → 'HH:MM:SS.ffffff'. */
function formatTimeOfDay(units: bigint, digits: 6 | 9): string {
  const perSec = digits === 6 ? 1_000_000n : 1_000_000_000n;
  const frac = units % perSec;
  const secs = units / perSec;
  return `${pad(secs / 3600n, 2)}:${pad((secs / 60n) % 60n, 2)}:${pad(secs % 60n, 2)}.${pad(frac, digits)}`;
}

/** Offset in seconds east of UTC → '+HH:MM' (or '+HH:MM:SS'). */
function formatOffset(seconds: number): string {
  const a = Math.abs(seconds);
  const s = a % 60;
  return `${seconds < 0 ? '-' : '+'}${pad(Math.floor(a / 3600), 2)}:${pad(Math.floor(a / 60) % 60, 2)}${s ? `:${pad(s, 2)}` : ''}`;
}

/** Micro- or nanoseconds since 1970-01-01 00:00 (UTC for TIMESTAMPTZ) → 'YYYY-MM-DD HH:MM:SS.ffffff'. */
export function formatTimestamp(units: bigint, digits: 6 | 9 = 6): string {
  const inf = isInf(units);
  if (inf) return inf;
  const perDay = 86_400n * (digits === 6 ? 1_000_000n : 1_000_000_000n);
  let days = units / perDay;
  let rest = units % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  } // floor division
  const { ymd, bc } = dateParts(Number(days));
  return `${ymd}${bc ? ' (BC)' : ''} ${formatTimeOfDay(rest, digits)}`;
}
