// @ts-check
/**
 * The plan of an incremental run read in chunks: its key ranges, how far each has got, and the
 * objects each has made durable. The table's watermark advances only once every chunk is done,
 * in one transaction that moves the chunks' objects into tablevault_files; until then a rerun
 * resumes the same plan (the same ranges, the same object keys) from each chunk's progress.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema
    .createTable('tablevault_chunks')
    .addColumn('table_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('chunk', 'integer', (c) => c.notNull())
    // the table's file count when planned: the chunks' object keys are named by it
    .addColumn('plan_seq', 'integer', (c) => c.notNull())
    .addColumn('key_columns', 'text', (c) => c.notNull())
    // the watermark the plan reads past (null: a first backup) and the one it ends at
    .addColumn('key_after', 'text')
    .addColumn('key_through', 'text', (c) => c.notNull())
    // the chunk's key range, as SQL in the source's dialect with its literals inlined
    .addColumn('range_sql', 'text')
    .addColumn('estimated_rows', 'bigint', (c) => c.notNull())
    // the key of the chunk's last row durable in the store (null: none yet)
    .addColumn('progress', 'text')
    .addColumn('parts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('run_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tablevault_chunks_pk', ['table_key', 'chunk'])
    .execute();
  await db.schema
    .createTable('tablevault_chunk_files')
    .addColumn('table_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('chunk', 'integer', (c) => c.notNull())
    .addColumn('part', 'integer', (c) => c.notNull())
    .addColumn('object_key', 'varchar(1024)', (c) => c.notNull())
    .addColumn('rows', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('key_from', 'text')
    .addColumn('key_to', 'text', (c) => c.notNull())
    .addColumn('schema_version', 'integer', (c) => c.notNull())
    .addColumn('run_id', 'varchar(36)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tablevault_chunk_files_pk', ['table_key', 'chunk', 'part'])
    .execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.dropTable('tablevault_chunk_files').execute();
  await db.schema.dropTable('tablevault_chunks').execute();
}
