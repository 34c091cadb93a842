import type { Source } from '../source/source.js';
import { cellReader } from '../arrow/to-text.js';
import type { TablePlan } from './incremental-plan.js';

/** The cursor day (UTC, `YYYY-MM-DD`) of the first row past the watermark, or undefined when there is none. */
export async function nextRowDay(plan: TablePlan, after: string[] | null, source: Source): Promise<string | undefined> {
  const keyCols = plan.columns.filter((c) => plan.keyColumns.includes(c.name));
  const cursor = keyCols.find((c) => c.name === plan.keyColumns[0])!;
  for await (const b of source.read(
    { ...plan.table, columns: keyCols },
    { batchRows: 1, maxRows: 1, keyColumns: plan.keyColumns, after: after ?? undefined, where: plan.where },
  )) {
    if (b.numRows === 0) continue;
    const text = cellReader(cursor, b.getChild(cursor.name)!.data[0]!, source.valueText)(0);
    if (typeof text === 'string') return text.slice(0, 10);
  }
  return undefined;
}
