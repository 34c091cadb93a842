import { errorMessage, inputError } from '../errors.js';
import type { Logger } from '../log.js';
import type { S3Options } from '../s3/client.js';
import { parseTableRef, qualifiedName, type SourceTable } from '../source/columns.js';
import type { SourceChecksums } from '../source/checksums.js';
import { engineFor } from '../source/engine.js';
import { openBackup } from '../manifest/open.js';
import { BUCKETS, type Side } from '../checksum/canon.js';
import type { ProgressSink } from '../progress.js';
import { Scope } from '../scope.js';
import { DEFAULTS } from '../defaults.js';
import { backupRows, backupSide, type RowContext } from './backup-rows.js';
import { nameDifferingKeys } from './differing-keys.js';
import type { VerifyTableResult } from './result.js';

/**
 * Compares a table with its backup without holding either in memory: both sides are streamed
 * (the source in one snapshot, the backup one batch at a time) into per-key-range counts and
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
    const ctx: RowContext = {
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
