import { runtimeError } from '../errors.js';
import type { ColumnSpec } from '../source/columns.js';
import type { IncrementalContext } from './incremental.js';
import type { TablePlan } from './incremental-plan.js';
import { describeDiff, diffSchemas, isEmptyDiff } from './schema.js';

/**
 * The schema version new objects are written under: the last one recorded, or a new one when the
 * table changed in a way `on_schema_change: evolve` accepts (columns added or dropped, types
 * widened). Anything else fails this table with what changed and what to run. `--reset-table`
 * starts a new version whose backup begins again from nothing.
 */
export async function resolveSchemaVersion(
  plan: TablePlan,
  ctx: Pick<IncrementalContext, 'state' | 'log' | 'reset' | 'onSchemaChange' | 'strategyFile' | 'tableName'>,
  row: { columns_json: string | null; files: number },
): Promise<number> {
  const { state } = ctx;
  const name = ctx.tableName ?? `${plan.table.schema}.${plan.table.name}`;
  let latest = await state.latestSchema(plan.tableKey);
  const insert = async (version: number, columns: ColumnSpec[], changes: string[] | null, reset: boolean) => {
    await state.addSchemaVersion({
      tableKey: plan.tableKey,
      version,
      columns,
      keyColumns: plan.keyColumns,
      changes,
      reset,
    });
    return version;
  };
  if (ctx.reset) {
    ctx.log.warn('--reset-table: a new full backup under a new schema version');
    return insert((latest?.version ?? 0) + 1, plan.columns, ['reset: a new full backup'], true);
  }
  if (!latest) {
    // the first run, or a state store from before schema versions: version 1 is what was backed up so far
    const recorded = row.files > 0 && row.columns_json ? (JSON.parse(row.columns_json) as ColumnSpec[]) : plan.columns;
    await insert(1, recorded, null, false);
    latest = await state.schemaVersion(plan.tableKey, 1);
  }
  const d = diffSchemas(
    JSON.parse(latest.columns_json) as ColumnSpec[],
    plan.columns,
    JSON.parse(latest.key_columns) as string[],
    plan.keyColumns,
  );
  if (isEmptyDiff(d)) return latest.version;
  const changes = describeDiff(d);
  const breaking = d.incompatible.length > 0 || d.keyChanged !== undefined;
  if (breaking || ctx.onSchemaChange === 'fail') {
    const run = `tablevault backup ${ctx.strategyFile ?? '<strategy.yaml>'} --only ${name} --reset-table ${name}`;
    throw runtimeError(
      'SCHEMA_CHANGED',
      `${name} changed since its last backup (${changes.join('; ')}); ${
        breaking ? 'objects already written cannot be read under the new schema' : 'on_schema_change is fail'
      }. To start a new full backup under a new schema version, run: ${run}${breaking ? '' : ' (or set on_schema_change: evolve)'}`,
    );
  }
  ctx.log.warn({ changes, version: latest.version + 1 }, 'the table changed; new objects use a new schema version');
  return insert(latest.version + 1, plan.columns, changes, false);
}
