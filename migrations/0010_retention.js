// @ts-check
/**
 * Retention (expire): per table and target (the destination, `''`, or a mirror's dest URL), the
 * oldest run it keeps and what its manifest lists. Files with seq below `kept_seq` and done
 * generations below `kept_gen` are no longer listed: the generation `kept_gen` stands for them.
 * `swept_seq`/`swept_gen` say how far their objects are known deleted; an expire killed between
 * the two is finished by the next. File and generation rows stay: they are small, and they
 * name the objects still to delete.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema
    .createTable('tablevault_retention')
    .addColumn('table_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('target', 'varchar(255)', (c) => c.notNull())
    .addColumn('kept_run', 'varchar(36)', (c) => c.notNull())
    .addColumn('kept_backup_run', 'varchar(36)')
    .addColumn('kept_at', 'varchar(32)', (c) => c.notNull())
    // the last seq of the oldest kept run: its end, which a generation's through_seq is compared with
    .addColumn('kept_last_seq', 'integer', (c) => c.notNull())
    .addColumn('kept_seq', 'integer', (c) => c.notNull())
    .addColumn('kept_gen', 'integer', (c) => c.notNull())
    .addColumn('swept_seq', 'integer', (c) => c.notNull())
    .addColumn('swept_gen', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tablevault_retention_pk', ['table_key', 'target'])
    .execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.dropTable('tablevault_retention').execute();
}
