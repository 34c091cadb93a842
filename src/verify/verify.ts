import type { RecordBatch } from 'apache-arrow';
import { loadStrategy } from '../config/strategy.js';
import { selectTables } from '../config/select.js';
import { errorMessage, inputError, runtimeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { PeakMemory } from '../memory/peak.js';
import { redactUrl } from '../redact.js';
import type { S3Options } from '../s3/client.js';
import { parseTableRef, qualifiedName, type ColumnSpec, type SourceTable } from '../source/columns.js';
import type { SourceChecksums } from '../source/checksums.js';
import { engineFor } from '../source/engine.js';
import { openSource } from '../source/open.js';
import { openBackup, type OpenedBackup } from '../manifest/open.js';
import { currentFiles, fileColumns } from '../manifest/view.js';
import { readObjectBatches } from '../parquet/read.js';
import { decimalUnscaled } from '../arrow/to-text.js';
import { BUCKETS, canonReader, hashes, isFloatColumn, newSide, type Hash, type Side } from '../checksum/canon.js';
import type { ProgressSink } from '../progress.js';
import { Scope } from '../scope.js';
import { DEFAULTS } from '../defaults.js';

/** An incremental backup's newest version per key is found with a map; past this many keys per pass, more passes. */
const KEYS_PER_PASS = 2_000_000;
/** Keys named per kind of difference in the report. */
const MAX_KEYS_REPORTED = 100;

export interface VerifyTableResult {
  table: string;
  backup: string;
  equal: boolean;
  sourceRows: number;
  backupRows: number;
  /** Key ranges (hash buckets) whose count or checksum differed. */
  rangesDiffering: number;
  /** Keys in the source that the backup lacks. */
  missingFromBackup: { count: number; keys: string[] };
  /** Keys the backup has and the source no longer does: rows deleted in the source (an incremental backup keeps them). */
  notInSource: { count: number; keys: string[] };
  /** Keys whose values differ. */
  changed: { count: number; keys: string[] };
  error?: string;
  durationMs: number;
}

export interface VerifySummary {
  tables: VerifyTableResult[];
  equal: boolean;
  peakRssBytes: number;
}

/**
 * A batch's rows as canonical text (checksum/canon.ts), the same as the database computes it: the key
 * (primary key cells) and the row. With `split` (MySQL) floats are hashed apart from the rest: MySQL
 * can compute the rest in SQL but has no exact text of a float, so its floats are streamed.
 */
function rowTexts(
  batch: RecordBatch,
  ctx: Ctx,
  written?: ColumnSpec[],
): { key: (r: number) => string; hash: (r: number, key: string) => Hash } {
  const readers = ctx.columns.map((c) => {
    const w = written ? written.find((x) => x.name === c.name) : c;
    if (!w) return () => 'n'; // added after this object was written: NULL in it
    const child = batch.getChild(c.name);
    if (!child) throw runtimeError('VERIFY_COLUMN', `column ${c.name} is missing from a batch`);
    return canonReader(c, child.data[0]!, w);
  });
  const isFloat = ctx.columns.map((c) => ctx.split && isFloatColumn(c));
  const rest = readers.filter((_, i) => !isFloat[i]);
  const floats = readers.filter((_, i) => isFloat[i]);
  return {
    key: (r) => ctx.keyIdx.map((k) => readers[k]!(r)).join('\u001f'),
    hash: (r, key) =>
      hashes(
        key,
        rest.map((f) => f(r)).join('\u001f'),
        floats.length ? floats.map((f) => f(r)).join('\u001f') : undefined,
      ),
  };
}

function add(side: Side, h: { bucket: number; a: number; b: number }): void {
  side.count[h.bucket]! += 1;
  side.sumA[h.bucket] = (side.sumA[h.bucket]! + h.a) >>> 0;
  side.sumB[h.bucket] = (side.sumB[h.bucket]! + h.b) >>> 0;
}

/** The key's text as a user reads it: the primary key values joined with ", ". */
const showKey = (k: string) =>
  k
    .split('\u001f')
    .map((v) => (v === 'n' ? 'NULL' : v.slice(1)))
    .join(', ');

/** Comparable cursor values of one batch: the raw integer, float, day or microsecond number; decimals from their words; else text. */
function cursorReader(batch: RecordBatch, spec: ColumnSpec): (r: number) => bigint | number | string | null {
  const data = batch.getChild(spec.name)!.data[0]!;
  const off = data.offset;
  if (spec.kind === 'decimal') {
    const w = data.values as Uint32Array;
    return (r) => (data.getValid(r) ? decimalUnscaled(w, (off + r) * 4) : null);
  }
  if (
    [
      'timestamp',
      'timestamptz',
      'time',
      'date',
      'int8',
      'int16',
      'int32',
      'int64',
      'uint8',
      'uint16',
      'uint32',
      'uint64',
      'float32',
      'float64',
    ].includes(spec.kind)
  ) {
    const values = data.values as unknown as ArrayLike<number | bigint>;
    return (r) => (data.getValid(r) ? values[off + r]! : null);
  }
  const read = canonReader(spec, data);
  return (r) => {
    const v = read(r);
    return v === 'n' ? null : v;
  };
}

interface Ctx {
  columns: ColumnSpec[];
  keyIdx: number[];
  batchRows: number;
  split: boolean;
}

type Hashed = { key: string; h: Hash };

/** A batch's rows with their key, content and hashes, those in the `want` buckets only. */
function* hashedRows(
  batch: RecordBatch,
  ctx: Ctx,
  want: (bucket: number) => boolean,
  written?: ColumnSpec[],
): Generator<Hashed> {
  const t = rowTexts(batch, ctx, written);
  for (let r = 0; r < batch.numRows; r++) {
    const key = t.key(r);
    const h = t.hash(r, key);
    if (want(h.bucket)) yield { key, h };
  }
}

/** The backup's rows (for an incremental one: the newest version per key), as (key, row) pairs, restricted to `want` buckets. */
async function* backupRows(b: OpenedBackup, ctx: Ctx, want: (bucket: number) => boolean): AsyncGenerator<Hashed> {
  const m = b.manifest;
  const keyOf = (f: string) => (b.prefix ? `${b.prefix}/${f}` : f);
  if (m.format === 'tablevault.export.v1') {
    for (const f of m.files) {
      for await (const batch of readObjectBatches(b.store, keyOf(f.name), ctx.batchRows))
        yield* hashedRows(batch, ctx, want, fileColumns(m, f));
    }
    return;
  }
  // incremental: several versions per key; the newest cursor wins (later file on a tie)
  const cursorSpec = m.columns.find((c) => c.name === m.cursor)!;
  const passes = Math.max(1, Math.ceil(m.rows / KEYS_PER_PASS));
  for (let pass = 0; pass < passes; pass++) {
    const latest = new Map<string, { cursor: bigint | number | string | null; h: Hash }>();
    for (const f of currentFiles(m)) {
      for await (const batch of readObjectBatches(b.store, keyOf(f.name), ctx.batchRows)) {
        const t = rowTexts(batch, ctx, fileColumns(m, f));
        const cur = cursorReader(batch, cursorSpec);
        for (let r = 0; r < batch.numRows; r++) {
          const key = t.key(r);
          const h = t.hash(r, key);
          if (h.bucket % passes !== pass || !want(h.bucket)) continue;
          const c = cur(r);
          const prev = latest.get(key);
          if (!prev || prev.cursor === null || (c !== null && c >= prev.cursor)) latest.set(key, { cursor: c, h });
        }
      }
    }
    for (const [key, v] of latest) yield { key, h: v.h };
  }
}

/**
 * Compares a table with its backup without holding either in memory: both sides are streamed
 * (the source in one snapshot, the backup one row group at a time) into per-key-range counts and
 * checksums of the primary key and every value, in the same canonical text; ranges that differ are
 * then read again, and only their keys are compared, to name the rows that differ.
 */
export async function verifyTable(
  opts: { source: string; table: string; backup: string; s3?: S3Options; batchRows?: number; progress?: ProgressSink },
  log: Logger,
): Promise<VerifyTableResult> {
  const started = Date.now();
  const batchRows = opts.batchRows ?? DEFAULTS.verify.batchRows;
  const engine = await engineFor(opts.source, '--source');
  const scope = new Scope();
  try {
    const source = scope.add(await engine.openSource(opts.source), (s) => s.close().catch(() => {}));
    const backup = scope.add(await openBackup(opts.backup, opts.s3), (b) => b.close());
    const m = backup.manifest;
    let ref;
    try {
      ref = parseTableRef(opts.table);
    } catch (e) {
      throw inputError('TABLE', `--table: ${errorMessage(e)}`);
    }
    const described = await source.describe(ref);
    if (m.primaryKey.length === 0)
      throw inputError(
        'NO_KEY',
        `${qualifiedName(described)} has no primary key in its backup: verify compares rows by key`,
      );
    const columns = m.columns;
    const missing = columns
      .filter((c) => !described.columns.some((d) => d.name === c.name && d.kind === c.kind))
      .map((c) => c.name);
    if (missing.length)
      throw inputError(
        'SCHEMA',
        `${qualifiedName(described)}: column(s) ${missing.join(', ')} of the backup are missing from the source or have another type now`,
      );
    const table: SourceTable = {
      ...described,
      columns: columns.map((c) => described.columns.find((d) => d.name === c.name)!),
    };
    // MySQL hashes floats apart from the rest (see rowTexts): both sides must split the same way
    const ctx: Ctx = {
      columns,
      keyIdx: m.primaryKey.map((k) => columns.findIndex((c) => c.name === k)),
      batchRows,
      split: engine.hashesFloatsApart,
    };
    // the database computes its side in SQL (only 1,024 × 3 numbers travel, then the keys of differing ranges)
    const keyCols = ctx.keyIdx.map((i) => table.columns[i]!);
    const checksums: SourceChecksums = await engine.openChecksums(opts.source, source, table, keyCols, {
      buckets: BUCKETS,
      batchRows,
    });
    scope.add(checksums, (c) => c.close());
    const [src, bak] = await Promise.all([checksums.buckets(), backupSide(backup, ctx, opts)]);
    const differing = new Set<number>();
    for (let i = 0; i < BUCKETS; i++)
      if (src.count[i] !== bak.count[i] || src.sumA[i] !== bak.sumA[i] || src.sumB[i] !== bak.sumB[i]) differing.add(i);
    const sum = (s: Side) => s.count.reduce((n, c) => n + c, 0);
    const result: VerifyTableResult = {
      table: qualifiedName(described),
      backup: opts.backup,
      equal: differing.size === 0,
      sourceRows: sum(src),
      backupRows: sum(bak),
      rangesDiffering: differing.size,
      missingFromBackup: { count: 0, keys: [] },
      notInSource: { count: 0, keys: [] },
      changed: { count: 0, keys: [] },
      durationMs: 0,
    };
    if (differing.size) {
      log.info({ table: result.table, ranges: differing.size }, 'key ranges differ; narrowing to keys');
      await nameDifferingKeys(
        result,
        await checksums.keys(differing),
        backupRows(backup, ctx, (b) => differing.has(b)),
      );
    }
    result.durationMs = Date.now() - started;
    return result;
  } finally {
    await scope.close();
  }
}

/** The backup's side of the checksums, read while the database computes its own. */
async function backupSide(
  backup: OpenedBackup,
  ctx: Ctx,
  opts: { table: string; progress?: ProgressSink },
): Promise<Side> {
  const bak = newSide();
  opts.progress?.({ table: opts.table, estimatedRows: backup.manifest.rows });
  let n = 0;
  for await (const r of backupRows(backup, ctx, () => true)) {
    add(bak, r.h);
    if (++n === 10_000) {
      opts.progress?.({ table: opts.table, rows: n });
      n = 0;
    }
  }
  opts.progress?.({ table: opts.table, rows: n });
  return bak;
}

/** Names the keys of the differing ranges: the source's digests per key against the backup's rows of those ranges. */
async function nameDifferingKeys(
  result: VerifyTableResult,
  fromSource: Map<string, string>,
  fromBackup: AsyncIterable<Hashed>,
): Promise<void> {
  const note = (list: { count: number; keys: string[] }, key: string) => {
    list.count++;
    if (list.keys.length < MAX_KEYS_REPORTED) list.keys.push(showKey(key));
  };
  for await (const r of fromBackup) {
    const s = fromSource.get(r.key);
    if (s === undefined) note(result.notInSource, r.key);
    else {
      if (s !== r.h.digest) note(result.changed, r.key);
      fromSource.delete(r.key);
    }
  }
  for (const key of fromSource.keys()) note(result.missingFromBackup, key);
}

/**
 * `verify --source … --table … --dest …`, or every table (or --only some) of a strategy file.
 *
 * @example
 * ```ts
 * import { verify } from 'tablevault';
 *
 * const v = await verify({ strategy: 'strategies/nightly-incremental.yaml' });
 * if (!v.equal) for (const t of v.tables) console.log(t.table, t.missingFromBackup, t.notInSource, t.changed);
 * ```
 */
export async function verify(
  opts: {
    strategy?: string;
    only?: string[];
    source?: string;
    table?: string;
    dest?: string;
    s3?: S3Options;
    progress?: ProgressSink;
  },
  deps: { logger?: Logger } = {},
): Promise<VerifySummary> {
  const log = deps.logger ?? silentLogger();
  const peak = new PeakMemory().start();
  const jobs: Array<{ source: string; table: string; backup: string; s3?: S3Options }> = [];
  if (opts.strategy) {
    const s = loadStrategy(opts.strategy);
    const source = await openSource(s.source);
    try {
      for (const t of selectTables(s, opts.only)) {
        const described = await source.describe(parseTableRef(t.table)).catch((e: unknown) => {
          throw inputError('STRATEGY', `${s.file}: table ${t.table}: ${errorMessage(e)}`);
        });
        jobs.push({
          source: s.source,
          table: t.table,
          backup: `${s.destination.replace(/\/+$/, '')}/${qualifiedName(described)}`,
          s3: { endpoint: s.s3.endpoint, region: s.s3.region },
        });
      }
    } finally {
      await source.close().catch(() => {});
    }
  } else {
    if (!opts.source || !opts.table || !opts.dest)
      throw inputError('OPTION', 'verify needs a strategy file, or --source, --table and --dest');
    const dest = opts.dest.replace(/\/+$/, '');
    // --dest as for export (the prefix above <schema>.<table>) or the table's own prefix
    const source = await openSource(opts.source);
    let backup = dest;
    try {
      const described = await source.describe(parseTableRef(opts.table));
      if (!dest.endsWith(`/${qualifiedName(described)}`)) backup = `${dest}/${qualifiedName(described)}`;
    } finally {
      await source.close().catch(() => {});
    }
    jobs.push({ source: opts.source, table: opts.table, backup, s3: opts.s3 });
  }
  const tables: VerifyTableResult[] = [];
  for (const j of jobs) {
    try {
      tables.push(await verifyTable({ ...j, progress: opts.progress }, log));
    } catch (e) {
      if ((e as { exitCode?: number }).exitCode === 2) throw e;
      tables.push({
        table: j.table,
        backup: j.backup,
        equal: false,
        sourceRows: 0,
        backupRows: 0,
        rangesDiffering: 0,
        missingFromBackup: { count: 0, keys: [] },
        notInSource: { count: 0, keys: [] },
        changed: { count: 0, keys: [] },
        error: errorMessage(e),
        durationMs: 0,
      });
      log.error({ table: j.table, source: redactUrl(j.source), err: errorMessage(e) }, 'verify failed');
    }
  }
  peak.stop();
  return { tables, equal: tables.every((t) => t.equal), peakRssBytes: peak.rss };
}
