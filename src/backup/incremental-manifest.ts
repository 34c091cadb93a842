import type { ColumnSpec } from '../source/columns.js';
import type { GenerationObject, ManifestState } from '../state/repository.js';
import type { IncrementalManifestInput } from '../manifest/write.js';
import type { TablePlan } from './incremental-plan.js';

/** The table's manifest, from the state store's record: everything needed to read the backup from the bucket alone. */
export function manifestInput(
  plan: TablePlan,
  { table: t, files, schemas, generations, retention }: ManifestState,
): IncrementalManifestInput {
  return {
    table: plan.table,
    columns: plan.columns,
    keyColumns: plan.keyColumns,
    primaryKey: plan.primaryKey,
    schemaVersion: Number(t.schema_version ?? 1),
    schemas: schemas.map((v) => ({
      version: v.version,
      columns: JSON.parse(v.columns_json) as ColumnSpec[],
      keyColumns: JSON.parse(v.key_columns) as string[],
      changes: v.changes ? (JSON.parse(v.changes) as string[]) : [],
      reset: Boolean(v.reset),
      createdAt: v.created_at,
    })),
    watermark: t.watermark ? (JSON.parse(t.watermark) as string[]) : null,
    rows: Number(t.rows),
    objects: files.map((f) => ({
      key: f.object_key,
      rows: Number(f.rows),
      bytes: Number(f.bytes),
      sha256: f.sha256,
      schemaVersion: Number(f.schema_version ?? 1),
      after: f.key_from ? (JSON.parse(f.key_from) as string[]) : null,
      through: JSON.parse(f.key_to) as string[],
      runId: f.run_id,
      ...(f.backup_run ? { backupRunId: f.backup_run } : {}),
      ...(f.kind === 'deletes' ? { kind: 'deletes' as const } : {}),
    })),
    generations: generations.map((g) => ({
      id: g.generation,
      // the manifest counts places in its list, the state sequence numbers
      through: files.filter((f) => f.seq < g.through_seq).length,
      runId: g.run_id,
      ...(g.backup_run ? { backupRunId: g.backup_run } : {}),
      schemaVersion: g.schema_version,
      rows: Number(g.rows),
      files: JSON.parse(g.files_json ?? '[]') as GenerationObject[],
      createdAt: g.created_at,
    })),
    ...(retention
      ? {
          keptFrom: {
            runId: retention.kept_run,
            ...(retention.kept_backup_run ? { backupRunId: retention.kept_backup_run } : {}),
            at: retention.kept_at,
          },
        }
      : {}),
  };
}
