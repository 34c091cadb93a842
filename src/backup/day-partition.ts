import type { ColumnSpec, SourceTable } from '../source/columns.js';
import { quoteMysqlIdent, quotePgIdent } from '../source/quote.js';
import type { Source } from '../source/source.js';
import { cellReader } from '../arrow/to-text.js';
import type { TablePlan } from './incremental-plan.js';

/** SQL: the cursor is before the start (UTC) of `day`. */
export function beforeDaySql(t: SourceTable, cursor: ColumnSpec, day: string): string {
  const q = t.engine === 'postgres' ? quotePgIdent : quoteMysqlIdent;
  const literal = cursor.kind === 'date' ? `'${day}'` : t.engine === 'postgres' && cursor.kind === 'timestamptz' ? `'${day} 00:00:00+00'` : `'${day} 00:00:00'`;
  return `${q(cursor.name)} < ${literal}`;
}

/** The cursor day (UTC, `YYYY-MM-DD`) of the first row past the watermark, or undefined when there is none. */
export async function nextRowDay(plan: TablePlan, after: string[] | null, source: Source): Promise<string | undefined> {
  const keyCols = plan.columns.filter((c) => plan.keyColumns.includes(c.name));
  const cursor = keyCols.find((c) => c.name === plan.keyColumns[0])!;
  for await (const b of source.read({ ...plan.table, columns: keyCols }, { batchRows: 1, maxRows: 1, keyColumns: plan.keyColumns, after: after ?? undefined, where: plan.where })) {
    if (b.numRows === 0) continue;
    const text = cellReader(cursor, b.getChild(cursor.name)!.data[0]!, plan.table.engine)(0);
    if (typeof text === 'string') return text.slice(0, 10);
  }
  return undefined;
}
