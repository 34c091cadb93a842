// @ts-check
/**
 * Schema versions of incrementally backed-up tables: each version's columns and key columns, what
 * changed from the one before, and whether it restarted the backup (`--reset-table`). Every file
 * records the version its rows were written under.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema
    .createTable('tablevault_schemas')
    .addColumn('table_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('columns_json', 'text', (c) => c.notNull())
    .addColumn('key_columns', 'text', (c) => c.notNull())
    .addColumn('changes', 'text')
    .addColumn('reset', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tablevault_schemas_pk', ['table_key', 'version'])
    .execute();
  await db.schema
    .alterTable('tablevault_files')
    .addColumn('schema_version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .alterTable('tablevault_tables')
    .addColumn('schema_version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.alterTable('tablevault_tables').dropColumn('schema_version').execute();
  await db.schema.alterTable('tablevault_files').dropColumn('schema_version').execute();
  await db.schema.dropTable('tablevault_schemas').execute();
}
