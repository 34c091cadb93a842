import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  List,
  makeData,
  TimeMicrosecond,
  TimestampMicrosecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { cellReader } from '../../src/arrow/to-text.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import type { LoadPlan } from '../../src/source/loader.js';
import { binaryWriterFor } from '../../src/source/postgres/binary-writers.js';
import { binaryRows, writeHeader, writeTrailer } from '../../src/source/postgres/copy-binary-writer.js';
import { ChunkPool, CopyOut } from '../../src/source/postgres/copy-chunks.js';
import { textRows } from '../../src/source/postgres/copy-text-writer.js';
import { targetTypes } from '../../src/source/postgres/target-types.js';
import { valueText } from '../../src/source/postgres/text.js';

/**
 * Arrow columns built from plain values (as a Parquet object decodes to), and the two ways the
 * restore's PostgreSQL loader writes them: COPY text from the cells the text path reads, and
 * binary COPY from the Arrow buffers.
 */

function validity(valid: boolean[]): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array((valid.length + 7) >> 3);
  valid.forEach((v, i) => {
    if (v) nullBitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount: valid.filter((v) => !v).length };
}

type Fixed =
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A fixed-width column; `values[i]` null → NULL. */
export function fixedData<T>(
  type: DataType,
  values: Array<T | null>,
  make: (n: number) => Fixed,
  put: (a: Fixed, i: number, v: T) => void,
): Data {
  const a = make(values.length);
  values.forEach((v, i) => v !== null && put(a, i, v));
  return makeData({ type, length: values.length, data: a, ...validity(values.map((v) => v !== null)) } as never);
}

export const int16Data = (v: Array<number | null>) =>
  fixedData(
    new Int16(),
    v,
    (n) => new Int16Array(n),
    (a, i, x) => (a[i] = x),
  );
export const int32Data = (v: Array<number | null>) =>
  fixedData(
    new Int32(),
    v,
    (n) => new Int32Array(n),
    (a, i, x) => (a[i] = x),
  );
export const int64Data = (v: Array<bigint | null>) =>
  fixedData(
    new Int64(),
    v,
    (n) => new BigInt64Array(n),
    (a, i, x) => (a[i] = x),
  );
export const uint8Data = (v: Array<number | null>) =>
  fixedData(
    new Uint8(),
    v,
    (n) => new Uint8Array(n),
    (a, i, x) => (a[i] = x),
  );
export const uint16Data = (v: Array<number | null>) =>
  fixedData(
    new Uint16(),
    v,
    (n) => new Uint16Array(n),
    (a, i, x) => (a[i] = x),
  );
export const uint32Data = (v: Array<number | null>) =>
  fixedData(
    new Uint32(),
    v,
    (n) => new Uint32Array(n),
    (a, i, x) => (a[i] = x),
  );
export const uint64Data = (v: Array<bigint | null>) =>
  fixedData(
    new Uint64(),
    v,
    (n) => new BigUint64Array(n),
    (a, i, x) => (a[i] = x),
  );
export const float32Data = (v: Array<number | null>) =>
  fixedData(
    new Float32(),
    v,
    (n) => new Float32Array(n),
    (a, i, x) => (a[i] = x),
  );
export const float64Data = (v: Array<number | null>) =>
  fixedData(
    new Float64(),
    v,
    (n) => new Float64Array(n),
    (a, i, x) => (a[i] = x),
  );
export const dateData = (v: Array<number | null>) =>
  fixedData(
    new DateDay(),
    v,
    (n) => new Int32Array(n),
    (a, i, x) => (a[i] = x),
  );
export const timeData = (v: Array<bigint | null>) =>
  fixedData(
    new TimeMicrosecond(),
    v,
    (n) => new BigInt64Array(n),
    (a, i, x) => (a[i] = x),
  );
export const timestampData = (v: Array<bigint | null>, tz = false) =>
  fixedData(
    new TimestampMicrosecond(tz ? 'UTC' : null),
    v,
    (n) => new BigInt64Array(n),
    (a, i, x) => (a[i] = x),
  );

export function boolData(values: Array<boolean | null>): Data {
  const bits = validity(values.map((v) => v === true)).nullBitmap;
  return makeData({ type: new Bool(), length: values.length, data: bits, ...validity(values.map((v) => v !== null)) });
}

/** A 128-bit decimal column from unscaled integers. */
export function decimalData(values: Array<bigint | null>, precision: number, scale: number): Data {
  const words = new Uint32Array(values.length * 4);
  values.forEach((v, i) => {
    if (v === null) return;
    const u = BigInt.asUintN(128, v);
    for (let k = 0; k < 4; k++) words[i * 4 + k] = Number((u >> BigInt(32 * k)) & 0xffffffffn);
  });
  return makeData({
    type: new Decimal(scale, precision, 128),
    length: values.length,
    data: words,
    ...validity(values.map((v) => v !== null)),
  } as never);
}

/** A string (or, `binary`, a bytes) column from each value's bytes. */
export function bytesData(values: Array<Uint8Array | string | null>, binary = false): Data {
  const parts = values.map((v) =>
    v === null ? new Uint8Array(0) : typeof v === 'string' ? Buffer.from(v, 'utf8') : v,
  );
  const valueOffsets = new Int32Array(values.length + 1);
  parts.forEach((p, i) => (valueOffsets[i + 1] = valueOffsets[i]! + p.length));
  const data = new Uint8Array(valueOffsets[values.length]!);
  parts.forEach((p, i) => data.set(p, valueOffsets[i]!));
  const type = binary ? new Binary() : new Utf8();
  return makeData({
    type,
    length: values.length,
    valueOffsets,
    data,
    ...validity(values.map((v) => v !== null)),
  } as never);
}

/** A list column: `lists[i]` null → NULL, else the range of `child` rows it spans, in order. */
export function listData(child: Data, lists: Array<number | null>): Data {
  const valueOffsets = new Int32Array(lists.length + 1);
  lists.forEach((n, i) => (valueOffsets[i + 1] = valueOffsets[i]! + (n ?? 0)));
  const type = new List(new Field('element', child.type, true));
  return makeData({
    type,
    length: lists.length,
    valueOffsets,
    child,
    ...validity(lists.map((v) => v !== null)),
  } as never);
}

const ID: ColumnSpec = { name: 'id', dbType: 'int4', nullable: false, kind: 'int32' };

async function copyIn(
  client: pg.Client,
  sqlText: string,
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<void> {
  await pipeline(Readable.from(chunks), client.query(copyStreams.from(sqlText)));
}

/** Rows (id, v) through the text path: the cells restore reads (cellReader), as COPY text. */
export async function copyText(client: pg.Client, table: string, spec: ColumnSpec, data: Data): Promise<void> {
  const ids = int32Data(Array.from({ length: data.length }, (_, i) => i));
  const cells = [cellReader(ID, ids, valueText), cellReader(spec, data, valueText)] as Array<
    (r: number) => string | null
  >;
  const plan: LoadPlan = { table: { name: table }, columns: [ID, spec], conflict: 'insert', primaryKey: [] };
  const out = new CopyOut(new ChunkPool());
  const chunks = [...textRows(plan, { numRows: data.length, cells }, out), ...out.drain(true)];
  await copyIn(client, `COPY ${table} (id, v) FROM STDIN`, chunks);
}

/** Rows (id, v) by binary COPY from the Arrow buffers; throws when the writers have no binary form for the column. */
export async function copyBinary(client: pg.Client, table: string, spec: ColumnSpec, data: Data): Promise<void> {
  const types = await targetTypes(client, table);
  const ids = int32Data(Array.from({ length: data.length }, (_, i) => i));
  const factory = binaryWriterFor(spec, types.get('v')!);
  if (!factory) throw new Error(`no binary writer for ${spec.kind} into ${JSON.stringify(types.get('v'))}`);
  const writers = [binaryWriterFor(ID, types.get('id')!)!(ids), factory(data)];
  const out = new CopyOut(new ChunkPool());
  writeHeader(out);
  const chunks = [...binaryRows(writers, data.length, out)];
  writeTrailer(out);
  chunks.push(...out.drain(true));
  await copyIn(client, `COPY ${table} (id, v) FROM STDIN (FORMAT binary)`, chunks);
}
