// @ts-check
/**
 * Each seen table's state key (an incremental table's, or its `full:` key), so `status` finds the
 * watermark, files and last run of a table no longer matched: an incremental table's key is made
 * from its schema and name, which the seen name (`schema.table`, dots and all) cannot be split back into.
 * Rows seen before this migration get theirs on their next run.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema.alterTable('tablevault_seen').addColumn('state_key', 'varchar(255)').execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.alterTable('tablevault_seen').dropColumn('state_key').execute();
}
