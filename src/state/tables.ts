import type { StateDb, TablesRow } from './db.js';
import { now } from './timestamps.js';

/** The table's row, created empty (no watermark, no files) on its first backup. */
export async function ensureTable(
  s: StateDb,
  t: { tableKey: string; destination: string; sourceTable: string },
): Promise<TablesRow> {
  await s.db
    .insertInto('tablevault_tables')
    .values({
      table_key: t.tableKey,
      destination: t.destination,
      source_table: t.sourceTable,
      watermark: null,
      files: 0,
      rows: 0,
      bytes: 0,
      columns_json: null,
      last_run_id: null,
      updated_at: now(),
    })
    .$call((qb) => s.engine.state.ignoreDuplicates(qb))
    .execute();
  return s.db.selectFrom('tablevault_tables').selectAll().where('table_key', '=', t.tableKey).executeTakeFirstOrThrow();
}

/**
 * The watermark a dry run reports: read only, and null when there is none yet, also when the
 * state store has no schema (a dry run does not migrate it).
 */
export async function peekWatermark(s: StateDb, tableKey: string): Promise<string[] | null> {
  const row = await s.db
    .selectFrom('tablevault_tables')
    .select('watermark')
    .where('table_key', '=', tableKey)
    .executeTakeFirst()
    .catch(() => undefined);
  return row?.watermark ? (JSON.parse(row.watermark) as string[]) : null;
}
