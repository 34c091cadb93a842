import type { LoadPlan } from '../loader.js';
import { quoteMysqlIdent } from './quote.js';
import { conflictTail } from './insert-rows.js';

/** The staging table's column that keeps the rows in the order they were loaded. */
const SEQ = 'tablevault_seq';

/**
 * Rows that may conflict (upsert, newest) are loaded by LOAD DATA into a staging table, then
 * merged by one INSERT … SELECT … ON DUPLICATE KEY UPDATE (the rule insert-rows.ts writes):
 * `LOAD DATA … REPLACE` would take the last row whatever its cursor. The staging table is a
 * TEMPORARY table of the loader's session with the plan's columns and no key (a batch may hold
 * several versions of a row), numbered in load order so the merge applies them in that order.
 */
export interface StageStatements {
  stage: string;
  create: string;
  empty: string;
  merge: string;
  /** For a stage of the key columns alone (a tombstone's keys): the table's rows with those keys deleted. */
  deleteMatching: string;
}

export function stageStatements(table: string, plan: LoadPlan, n: number): StageStatements {
  const stage = plan.table.schema
    ? `${quoteMysqlIdent(plan.table.schema)}.${quoteMysqlIdent(`tablevault_stage_${n}`)}`
    : quoteMysqlIdent(`tablevault_stage_${n}`);
  const cols = plan.columns.map((c) => quoteMysqlIdent(c.name)).join(', ');
  return {
    stage,
    // CREATE … SELECT takes the columns' types (not their keys, defaults or checks: the merge into the table applies those)
    create: `CREATE TEMPORARY TABLE ${stage} (${SEQ} bigint NOT NULL AUTO_INCREMENT PRIMARY KEY) SELECT ${cols} FROM ${table} LIMIT 0`,
    empty: `TRUNCATE TABLE ${stage}`,
    merge: `INSERT INTO ${table} (${cols}) SELECT ${cols} FROM ${stage} ORDER BY ${SEQ}${conflictTail(plan, table)}`,
    deleteMatching: `DELETE t FROM ${table} AS t JOIN ${stage} AS s ON ${plan.primaryKey.map((k) => `t.${quoteMysqlIdent(k)} = s.${quoteMysqlIdent(k)}`).join(' AND ')}`,
  };
}
