// @ts-check
/**
 * Row versions recently written by incremental backups with a lag window: the SHA-1 of each
 * version's key tuple (cursor, primary key…). A lag re-read skips these, so a version is never
 * written twice; versions that leave the window are pruned.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema
    .createTable('tablevault_recent')
    .addColumn('table_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('version', 'char(40)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tablevault_recent_pk', ['table_key', 'version'])
    .execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.dropTable('tablevault_recent').execute();
}
