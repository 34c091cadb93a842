import type { RecordBatch } from 'apache-arrow';
import type { Logger } from '../log.js';
import { emptyBatch } from '../arrow/batch.js';
import { incrementalMetadata } from '../manifest/footer.js';
import { generationFolder, generationPartKey } from '../manifest/layout.js';
import { backupView, fileColumns, filesThrough, type BackupFile } from '../manifest/view.js';
import { incrementalManifest, writeIncrementalManifest } from '../manifest/write.js';
import { deltaColumns } from '../parquet/compression.js';
import type { ColumnSpec } from '../source/columns.js';
import type { GenerationObject, ManifestState, StateRepository } from '../state/repository.js';
import type { ObjectStore } from '../store/store.js';
import type { UseEncoder } from '../backup/export-write.js';
import { manifestInput } from '../backup/incremental-manifest.js';
import type { IncrementalContext } from '../backup/incremental.js';
import type { TablePlan } from '../backup/incremental-plan.js';
import type { RunTable } from '../plan/run-tables.js';
import { splitIntoFiles } from '../backup/split.js';
import { chooseRows, passesFor, pickRows } from './compact-rows.js';

/**
 * Compaction: a new base generation of an incremental table, its state as of its latest
 * committed object (the newest version of every key, tombstones applied), so a restore of the
 * latest state reads the generation and the objects after it instead of every object.
 *
 * Crash safety: the generation is recorded `writing` before its first object is put and `done`,
 * with its objects, in one transaction once all of them are durable; only done generations are in
 * the manifest, which is rewritten after. A compaction killed anywhere leaves the previous state
 * readable; the next one removes the unfinished generation's objects (everything under its
 * folder) and its row, then writes its own under the same number, so the same keys.
 *
 * It reads the newest done generation and the objects after it (what a restore of the latest
 * state reads), not every object: the result is the same, since a generation restores to what
 * the objects it covers do.
 */

export interface CompactContext {
  store: ObjectStore;
  state: StateRepository;
  log: Logger;
  encoders: UseEncoder;
  /** The table's object settings, as its backups write objects (compactSettings). */
  settings: IncrementalContext['settings'];
  /** Keys held at once; more versions than this are compacted in passes over a share of the keys. */
  keysPerPass: number;
  /** Test hook: compact-part (a part is durable), compact-written (all are), compact-done (recorded). */
  hook?: (point: string) => void | Promise<void>;
}

export interface CompactResult {
  /** The new generation's number; absent when there was nothing to compact. */
  generation?: number;
  /** The manifest's objects it covers (files[0 .. through)). */
  through: number;
  rows: number;
  objects: number;
  bytes: number;
  /** What a restore of the latest state read before: objects and bytes. */
  before: { objects: number; bytes: number };
  /** And after (the generation and the objects after it: none, right after compacting). */
  after: { objects: number; bytes: number };
  /** Objects of an unfinished generation an earlier, killed compaction left, removed. */
  removed: number;
  passes: number;
}

const sum = (fs: BackupFile[]) => ({ objects: fs.length, bytes: fs.reduce((n, f) => n + f.bytes, 0) });

/** Compacts one incremental table; the caller holds the table's lock (no backup runs meanwhile). */
export async function compactTable(plan: TablePlan, ctx: CompactContext): Promise<CompactResult> {
  const { state, store, log } = ctx;
  const removed = await removeUnfinished(plan, ctx);
  const ms = await state.manifestState(plan.tableKey);
  const m = backupView(incrementalManifest(plan.tablePrefix, tableManifestInput(plan, ms)));
  const end = m.files.length;
  const latest = filesThrough(m, end);
  const before = sum(latest.files);
  const last = m.generations?.at(-1);
  if (end === 0 || (last && last.through === end)) {
    // a compaction killed after recording its generation but before the manifest: written now
    if (last) await writeIncrementalManifest(store, plan.tablePrefix, tableManifestInput(plan, ms));
    return { through: end, rows: 0, objects: 0, bytes: 0, before, after: before, removed, passes: 0 };
  }
  const id = Math.max(0, ...(await state.generations(plan.tableKey)).map((g) => g.generation)) + 1;
  const lastFile = ms.files[end - 1]!;
  const schemaVersion = Math.max(...latest.files.map((f) => f.schemaVersion ?? 1));
  await state.startGeneration({
    tableKey: plan.tableKey,
    generation: id,
    throughSeq: lastFile.seq + 1,
    runId: lastFile.run_id,
    ...(lastFile.backup_run ? { backupRun: lastFile.backup_run } : {}),
    schemaVersion,
  });
  const keyOf = (f: BackupFile) => `${plan.tablePrefix}/${f.name}`;
  const input = {
    store,
    keyOf,
    m,
    files: latest.files,
    batchRows: ctx.settings.batchRows,
    keysPerPass: ctx.keysPerPass,
  };
  const passes = passesFor(latest.files, ctx.keysPerPass);
  const objects: GenerationObject[] = [];
  await ctx.encoders(async (encoder) => {
    for (let pass = 0; pass < passes; pass++) {
      const chosen = await chooseRows(input, pass, passes);
      // each part holds rows of one schema version, written as they were (its objects say which)
      const versions = [...new Set([...chosen.keys()].map((i) => latest.files[i]!.schemaVersion ?? 1))].sort(
        (a, b) => a - b,
      );
      for (const version of versions) {
        const from = [...chosen.keys()]
          .sort((a, b) => a - b)
          .filter((i) => (latest.files[i]!.schemaVersion ?? 1) === version);
        const columns = fileColumns(m, latest.files[from[0]!]!);
        const rows = (async function* (): AsyncGenerator<RecordBatch> {
          for (const i of from) yield* pickRows(store, keyOf(latest.files[i]!), chosen.get(i)!, ctx.settings.batchRows);
        })();
        for await (const part of splitIntoFiles(rows, ctx.settings.fileMaxRows, () => emptyBatch(columns))) {
          const key = generationPartKey(plan.tablePrefix, id, objects.length);
          let n = 0;
          const counted = (async function* () {
            for await (const b of part) {
              n += b.numRows;
              yield b;
            }
          })();
          const body = encoder.encode(counted, {
            compression: ctx.settings.compression,
            rowGroupRows: ctx.settings.rowGroupRows,
            deltaColumns: deltaColumns(columns, ctx.settings.integerEncoding),
            metadata: incrementalMetadata(plan.table, {
              after: null,
              schemaVersion: version,
              keyColumns: plan.keyColumns,
            }),
          });
          const put = await store.put({ key, body, contentType: 'application/vnd.apache.parquet' });
          objects.push({ key, rows: n, bytes: put.bytes, sha256: put.sha256, schemaVersion: version });
          log.info({ key, rows: n, bytes: put.bytes, generation: id }, 'generation part written');
          await ctx.hook?.('compact-part');
        }
      }
    }
  });
  await ctx.hook?.('compact-written');
  await state.finishGeneration(plan.tableKey, id, objects);
  await ctx.hook?.('compact-done');
  await writeIncrementalManifest(
    store,
    plan.tablePrefix,
    tableManifestInput(plan, await state.manifestState(plan.tableKey)),
  );
  const rows = objects.reduce((n, o) => n + o.rows, 0);
  const bytes = objects.reduce((n, o) => n + o.bytes, 0);
  log.info({ generation: id, through: end, rows, objects: objects.length, bytes }, 'compacted');
  return {
    generation: id,
    through: end,
    rows,
    objects: objects.length,
    bytes,
    before,
    after: { objects: objects.length, bytes },
    removed,
    passes,
  };
}

/**
 * The manifest as the table's backups last wrote it: the columns of its latest schema version,
 * not the source's as they are now (a change since the last backup is the next backup's to record).
 */
export function tableManifestInput(plan: TablePlan, ms: ManifestState) {
  const input = manifestInput(plan, ms);
  const latest = ms.schemas.at(-1);
  if (!latest) return input;
  return {
    ...input,
    columns: JSON.parse(latest.columns_json) as ColumnSpec[],
    keyColumns: JSON.parse(latest.key_columns) as string[],
  };
}

/** Removes what killed compactions left: each unfinished generation's objects, then its row. How many objects. */
async function removeUnfinished(plan: TablePlan, ctx: CompactContext): Promise<number> {
  let removed = 0;
  for (const g of await ctx.state.generations(plan.tableKey, 'writing')) {
    const folder = generationFolder(plan.tablePrefix, g.generation);
    const keys: string[] = [];
    for await (const k of ctx.store.list(`${folder}/`)) keys.push(k);
    if (keys.length) await ctx.store.delete(keys);
    await ctx.store.removeAbandoned?.(folder);
    await ctx.state.dropGeneration(plan.tableKey, g.generation);
    ctx.log.warn({ generation: g.generation, objects: keys.length }, 'removed an unfinished generation');
    removed += keys.length;
  }
  return removed;
}

/** The table's own object settings, as its backups use them. */
export function compactSettings(t: RunTable) {
  const s = t.settings;
  return {
    batchRows: s.batch_rows,
    fileMaxRows: s.file_max_rows,
    rowGroupRows: Math.min(s.row_group_rows, s.file_max_rows),
    compression: s.compression,
    integerEncoding: s.integer_encoding,
  };
}
