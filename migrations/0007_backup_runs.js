// @ts-check
/**
 * The backup run (one `backup` command, all its tables) that committed each file, beside the
 * table's own run: `restore --as-of <backup run>` takes every table of a whole backup to the same
 * run. Files committed before this migration have none; their table runs still name them.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema.alterTable('tablevault_files').addColumn('backup_run', 'varchar(36)').execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.alterTable('tablevault_files').dropColumn('backup_run').execute();
}
