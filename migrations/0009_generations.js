// @ts-check
/**
 * Base generations (compaction): one row per generation of a table, 'writing' from before its
 * first object is put until every object is durable, then 'done' with its objects, in one
 * transaction. A generation is read (and named in the manifest) only when done; a 'writing' row
 * is what a killed compaction left: the next compaction removes its objects and the row.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema
    .createTable('tablevault_generations')
    .addColumn('table_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    // it covers the table's files with seq below this
    .addColumn('through_seq', 'integer', (c) => c.notNull())
    .addColumn('run_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('backup_run', 'varchar(36)')
    .addColumn('schema_version', 'integer', (c) => c.notNull())
    .addColumn('rows', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    // its objects: [{ key, rows, bytes, sha256, schemaVersion }], once done
    .addColumn('files_json', 'text')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tablevault_generations_pk', ['table_key', 'generation'])
    .execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.dropTable('tablevault_generations').execute();
}
