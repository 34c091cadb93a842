import { joinKey } from '../s3/location.js';
import { encodeTableSegment } from './table-segment.js';

export { decodeTableSegment, encodeTableSegment } from './table-segment.js';

/**
 * Where a backup's objects go, under a destination prefix:
 *
 * ```
 * <prefix>/<schema>.<table>/_manifest.json          written last: its presence means complete
 *                          /part-00000.parquet       export, in primary-key order
 *                          /part-00003-00000.parquet export read in chunks: chunk 3, its object 0
 *                          /incr-00000000.parquet    incremental, by sequence number
 *                          /incr-00000007-00002-00000.parquet
 *                                                    incremental run read in chunks, planned at
 *                                                    sequence number 7: chunk 2, its object 0
 *                          /dt=YYYY-MM-DD/incr-…     incremental with `partition: day`
 *                          /_deletes/del-00000009.deletes
 *                                                    tombstone object (deleted keys), by sequence number
 *                          /gen-00001/part-00000.parquet
 *                                                    base generation 1 (compaction): one version per key
 * ```
 *
 * `<schema>.<table>` is one key segment, each name percent-encoded unless it is plain
 * (`table-segment.ts`), so no two tables share a folder and no name leaves its own. Keys are fixed
 * by these names alone, so a rerun writes the same keys and replaces what a half-finished attempt
 * left.
 */

/** Each table's manifest, beside its data objects, written after them. */
export const MANIFEST_NAME = '_manifest.json';

/** The table's own prefix: `<prefix>/<schema>.<table>`, the names encoded by `encodeTableSegment`. */
export function tablePrefix(destPrefix: string, table: { schema: string; name: string }): string {
  return joinKey(destPrefix, encodeTableSegment(table));
}

/**
 * A table's backup under a destination URL, `s3://…` or `file://…`: what restore and verify open.
 * A file URL is percent-decoded into a path, so there the folder's own `%` is written `%25`.
 */
export function tableUrl(destUrl: string, table: { schema: string; name: string }): string {
  const segment = encodeTableSegment(table);
  return `${destUrl.replace(/\/+$/, '')}/${destUrl.startsWith('file://') ? segment.replaceAll('%', '%25') : segment}`;
}

export function manifestKey(prefix: string): string {
  return joinKey(prefix, MANIFEST_NAME);
}

/** Sync and mirrors copy a manifest after the objects it lists. */
export function isManifestKey(key: string): boolean {
  return key === MANIFEST_NAME || key.endsWith(`/${MANIFEST_NAME}`);
}

/** An export's object number `index`. */
export function partName(index: number): string {
  return `part-${String(index).padStart(5, '0')}.parquet`;
}

/**
 * Object `index` of chunk `chunk` of an export read in chunks: `part-CCCCC-NNNNN.parquet`. Chunks
 * are key ranges in key order, so key order is row order, as for an export read in one stream.
 */
export function chunkPartName(chunk: number, index: number): string {
  return `part-${String(chunk).padStart(5, '0')}-${String(index).padStart(5, '0')}.parquet`;
}

const PART_RE = /\/part-\d{5,}(-\d{5,})?\.parquet$/;

/** A key that is an export's part object (a stale one, when an earlier export had more). */
export function isPartKey(key: string): boolean {
  return PART_RE.test(key);
}

/** An incremental backup's object number `seq`. */
export function incrementalObjectName(seq: number): string {
  return `incr-${String(seq).padStart(8, '0')}.parquet`;
}

/**
 * Object `part` of chunk `chunk` of an incremental run read in chunks, planned when the table
 * had `planSeq` objects: fixed by the plan, which a rerun resumes, so a rerun writes the same keys.
 */
export function incrementalChunkObjectKey(prefix: string, planSeq: number, chunk: number, part: number): string {
  const n = (v: number, width: number) => String(v).padStart(width, '0');
  return joinKey(prefix, `incr-${n(planSeq, 8)}-${n(chunk, 5)}-${n(part, 5)}.parquet`);
}

/**
 * Tombstone object `seq` (the deleted keys a run found), in the table's `_deletes/` folder and
 * without a `.parquet` ending, though it is Parquet: a query over the data (a glob of every
 * `.parquet` under the table, or a Hive reader, which skips `_` folders) must not read keys as rows.
 */
export function deletesObjectKey(prefix: string, seq: number): string {
  return joinKey(prefix, '_deletes', `del-${String(seq).padStart(8, '0')}.deletes`);
}

/** The folder of base generation `id` (compaction): its part objects and nothing else. */
export function generationFolder(prefix: string, id: number): string {
  return joinKey(prefix, `gen-${String(id).padStart(5, '0')}`);
}

/** Part `part` of generation `id`: fixed by the two numbers, so a rerun of a compaction writes the same keys. */
export function generationPartKey(prefix: string, id: number, part: number): string {
  return joinKey(generationFolder(prefix, id), partName(part));
}

/** Hive-style folder of a day partition (`partition: day`), for Athena, Spark and DuckDB. */
export function dayFolder(day: string): string {
  return `dt=${day}`;
}

/** Object `seq` of an incremental backup, under its day's folder when partitioned. */
export function incrementalObjectKey(prefix: string, seq: number, day?: string): string {
  return joinKey(prefix, day ? dayFolder(day) : '', incrementalObjectName(seq));
}

/** An object's name in its table's manifest: its key relative to the table's prefix. */
export function objectName(prefix: string, key: string): string {
  return key.slice(prefix.length + 1);
}

/** `YYYY-MM-DD` → the next day, in the proleptic Gregorian calendar. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d + 1); // unlike Date.UTC, years 0-99 stay what they are
  return `${String(t.getUTCFullYear()).padStart(4, '0')}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`;
}
