// @ts-check
/**
 * The tables each destination's backups have seen: a table a strategy's patterns match for the
 * first time is new (backed up from scratch); one seen before and no longer matched (dropped,
 * renamed, excluded) is reported as gone, its backups kept.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema
    .createTable('tablevault_seen')
    // sha1 of destination and table name: both may be long, and a key must be short for MySQL
    .addColumn('seen_key', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('destination', 'varchar(1024)', (c) => c.notNull())
    .addColumn('table_name', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'varchar(32)', (c) => c.notNull())
    .addColumn('last_seen', 'varchar(32)', (c) => c.notNull())
    .execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.dropTable('tablevault_seen').execute();
}
