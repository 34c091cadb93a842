// @ts-check
/**
 * The state store: per backed-up table its watermark, the files written, the runs.
 * Plain ESM so it ships as is; written for both PostgreSQL and MySQL through kysely's schema builder.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema
    .createTable('tablevault_tables')
    .addColumn('table_key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('destination', 'varchar(1024)', (c) => c.notNull())
    .addColumn('source_table', 'varchar(255)', (c) => c.notNull())
    // the watermark: (cursor, primary key…) of the last row durable in the store, in the source's text form
    .addColumn('watermark', 'text')
    .addColumn('files', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('columns_json', 'text')
    .addColumn('last_run_id', 'varchar(36)')
    .addColumn('updated_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('tablevault_files')
    .addColumn('table_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('object_key', 'varchar(1024)', (c) => c.notNull())
    .addColumn('rows', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('key_from', 'text')
    .addColumn('key_to', 'text', (c) => c.notNull())
    .addColumn('run_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tablevault_files_pk', ['table_key', 'seq'])
    .execute();
  await db.schema
    .createTable('tablevault_runs')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('table_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('finished_at', 'varchar(32)')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('rows', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('files', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('watermark_before', 'text')
    .addColumn('watermark_after', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema
    .createIndex('tablevault_runs_table')
    .on('tablevault_runs')
    .columns(['table_key', 'started_at'])
    .execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.dropTable('tablevault_runs').execute();
  await db.schema.dropTable('tablevault_files').execute();
  await db.schema.dropTable('tablevault_tables').execute();
}
