import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Schema, Table, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import * as wasm from 'parquet-wasm';
import { deletesObjectKey } from '../../src/manifest/layout.js';
import { commitObject } from '../../src/state/object-commit.js';
import { openStateDb } from '../../src/state/db.js';
import type { ColumnSpec } from '../../src/source/columns.js';

/**
 * Until a backup writes tombstones (issue 19), tests make them: the keys as Parquet, with the key
 * columns' Arrow fields copied from one of the table's row objects (so the types are the ones a
 * backup writes), under the table's `_deletes/`, committed to the state store as a `kind: 'deletes'`
 * object after the table's last one. The next backup run writes the manifest with it in its place.
 */
export async function commitTombstone(opts: {
  /** The local destination's directory. */
  dir: string;
  /** The state database (the source's, by default). */
  stateUrl: string;
  /** The table's folder, `schema.table`. */
  folder: string;
  /** The table's last backup run (its `runId` in `backup --json`): finds its state row. */
  lastRunId: string;
  keys: Array<Record<string, unknown>>;
  /** The run the tombstone is recorded under (restore --as-of takes it). */
  runId: string;
}): Promise<{ name: string; rows: number }> {
  const tdir = join(opts.dir, opts.folder);
  const manifest = JSON.parse(readFileSync(join(tdir, '_manifest.json'), 'utf8')) as { primaryKey: string[] };
  const rowObject = readdirSync(tdir).find((f) => f.endsWith('.parquet'))!;
  const schema = tableFromIPC(wasm.readParquet(readFileSync(join(tdir, rowObject))).intoIPCStream()).schema;
  const fields = manifest.primaryKey.map((k) => schema.fields.find((f) => f.name === k)!);
  const table = new Table(
    new Schema(fields),
    Object.fromEntries(
      fields.map((f) => [
        f.name,
        vectorFromArray(
          opts.keys.map((k) => k[f.name]),
          f.type,
        ),
      ]),
    ),
  );
  const bytes = wasm.writeParquet(wasm.Table.fromIPCStream(tableToIPC(table, 'stream')));

  const state = await openStateDb(opts.stateUrl);
  try {
    const t = await state.db
      .selectFrom('tablevault_tables')
      .selectAll()
      .where('last_run_id', '=', opts.lastRunId)
      .where('table_key', 'like', `${opts.folder}@%`)
      .executeTakeFirstOrThrow();
    const key = deletesObjectKey(opts.folder, t.files);
    mkdirSync(dirname(join(opts.dir, key)), { recursive: true });
    writeFileSync(join(opts.dir, key), bytes);
    const watermark = JSON.parse(t.watermark!) as string[];
    await commitObject(state, {
      tableKey: t.table_key,
      seq: t.files,
      objectKey: key,
      rows: opts.keys.length,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      after: watermark,
      through: watermark,
      runId: opts.runId,
      schemaVersion: t.schema_version ?? 1,
      columns: JSON.parse(t.columns_json!) as ColumnSpec[],
      recentVersions: [],
      kind: 'deletes',
    });
    return { name: key.slice(opts.folder.length + 1), rows: opts.keys.length };
  } finally {
    await state.db.destroy();
  }
}
