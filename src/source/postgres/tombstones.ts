import type { LoadPlan } from '../loader.js';
import { quotePgIdent } from './quote.js';

/**
 * A tombstone object's keys go into a temporary table of the key columns alone, then delete what
 * they match: from the target table (a merge, batch by batch), or, in a table load, from the row
 * versions staged before it (`tablevault_ord` at or below the count of versions COPYed when the
 * tombstone came, so a version after it, the key inserted again, stays).
 */
export const DELETED = 'pg_temp.tablevault_deleted';
export const TOMBSTONES = 'pg_temp.tablevault_tombstones';

const keyMatch = (plan: LoadPlan, a: string, b: string) =>
  plan.primaryKey.map((k) => `${a}.${quotePgIdent(k)} = ${b}.${quotePgIdent(k)}`).join(' AND ');

const keyList = (plan: LoadPlan) => plan.primaryKey.map(quotePgIdent).join(', ');

/** The merge's key table, emptied at each commit: the target's key columns and types. */
export function createDeletedSql(plan: LoadPlan, target: string): string {
  return `DROP TABLE IF EXISTS ${DELETED}; CREATE TEMP TABLE tablevault_deleted ON COMMIT DELETE ROWS AS SELECT ${keyList(plan)} FROM ${target} WITH NO DATA`;
}

/** Every row of the target with a key in the key table. */
export function deleteFromTargetSql(plan: LoadPlan, target: string): string {
  return `DELETE FROM ${target} t USING ${DELETED} d WHERE ${keyMatch(plan, 't', 'd')}`;
}

/** A table load's tombstones, each key with the count of versions staged before it (its default, set per tombstone). */
export function createTombstonesSql(plan: LoadPlan, target: string): string {
  return `CREATE TEMP TABLE tablevault_tombstones ON COMMIT DROP AS SELECT ${keyList(plan)}, 0::bigint AS tablevault_ord FROM ${target} WITH NO DATA`;
}

export function tombstoneOrdSql(versionsBefore: number): string {
  return `ALTER TABLE ${TOMBSTONES} ALTER tablevault_ord SET DEFAULT ${versionsBefore}`;
}

/** The staged versions a later tombstone deleted (`versions` numbered 1, 2, … in COPY order). */
export function deleteTombstonedSql(plan: LoadPlan, versions: string): string {
  return `DELETE FROM ${versions} v USING ${TOMBSTONES} d WHERE ${keyMatch(plan, 'v', 'd')} AND v.tablevault_ord <= d.tablevault_ord`;
}
