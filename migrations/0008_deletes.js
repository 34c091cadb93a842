// @ts-check
/**
 * What each file holds: null, row versions (every file before this migration); `deletes`, a
 * tombstone object of the primary keys a run found deleted in the source.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema.alterTable('tablevault_files').addColumn('kind', 'varchar(16)').execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.alterTable('tablevault_files').dropColumn('kind').execute();
}
