// @ts-check
/**
 * Shared runs (`backup --join`): a run's plan, planned once per plan key by whichever process
 * comes first, and its tasks, claimed with leases. A claim raises the task's fencing token;
 * every commit of a task's work checks the token and the lease in its own transaction, so a
 * worker that lost its lease (killed, paused, cut off) cannot commit after another took over.
 * lease_until is in milliseconds of the state database's clock, never a worker's.
 * @param {import('kysely').Kysely<any>} db
 */
export async function up(db) {
  await db.schema
    .createTable('tablevault_plans')
    .addColumn('plan_key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('backup_run', 'varchar(36)', (c) => c.notNull())
    .addColumn('strategy', 'varchar(255)', (c) => c.notNull())
    .addColumn('tasks', 'integer', (c) => c.notNull())
    .addColumn('planned_by', 'varchar(255)', (c) => c.notNull())
    // ready: tasks to work; done: every task done (finished_at)
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('finished_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('tablevault_tasks')
    .addColumn('plan_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('task', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    // waiting, claimed (owner, host, lease_until), done
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('owner', 'varchar(255)')
    .addColumn('host', 'varchar(255)')
    .addColumn('token', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('result', 'text')
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tablevault_tasks_pk', ['plan_key', 'task'])
    .execute();
  await db.schema
    .createIndex('tablevault_tasks_status')
    .on('tablevault_tasks')
    .columns(['plan_key', 'status', 'task'])
    .execute();
}

/** @param {import('kysely').Kysely<any>} db */
export async function down(db) {
  await db.schema.dropTable('tablevault_tasks').execute();
  await db.schema.dropTable('tablevault_plans').execute();
}
