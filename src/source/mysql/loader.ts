import { keyPlan, type LoadBatch, type Loader, type LoadPlan } from '../loader.js';
import { errorMessage } from '../../errors.js';
import { createLogger, type Logger } from '../../log.js';
import { quoteMysqlIdent } from './quote.js';
import { mysqlConnectionOptions } from './connection.js';
import { InsertWriter } from './insert-rows.js';
import { stageStatements, type StageStatements } from './stage.js';
import { mysqlSwap } from './swap.js';
import { ChunkPool, fieldKinds, isLocalInfileRefused, loadDataSql, loadWarnings, runLoadData } from './load-data.js';

export interface MysqlLoaderOptions {
  /** Where the loader says it fell back to INSERT. Default: a logger of its own on stderr. */
  logger?: Logger;
  /** false: never offer LOAD DATA LOCAL (the client refuses it, as a server with local_infile=OFF does). Default true. */
  localInfile?: boolean;
}

/**
 * A restore's loader into MySQL/MariaDB, in strict sql_mode, each batch in one transaction:
 * `LOAD DATA LOCAL INFILE` streamed from memory (load-data.ts), its warnings failing the batch;
 * where the server or the client refuses LOCAL INFILE, multi-row INSERT (insert-rows.ts) from then
 * on. Rows that may conflict (upsert, newest) are loaded into a staging table and merged by one
 * INSERT … SELECT … ON DUPLICATE KEY UPDATE (stage.ts); a tombstone's keys are staged the same way
 * and delete their rows by one DELETE … JOIN (with INSERT: DELETE … WHERE (key) IN (…)).
 */
export async function openLoader(url: string, opts: MysqlLoaderOptions = {}): Promise<Loader> {
  const mysql = (await import('mysql2')).default;
  const conn = mysql.createConnection({
    ...mysqlConnectionOptions(url),
    timezone: 'Z',
    ...(opts.localInfile === false ? { flags: ['-LOCAL_FILES'] } : {}),
  });
  const q = (s: string) =>
    new Promise<void>((resolve, reject) => conn.query(s, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  // strict: a value the column cannot hold is an error, never a silent truncation; backslash escapes on (they are used below)
  await q(
    "SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
  );
  const inserts = new InsertWriter((v) => mysql.escape(v));
  let loadData = true;
  const chunks = new ChunkPool();
  /** Staging tables made, by table and columns: their number, -1 where none can be made. */
  const stages = new Map<string, number>();
  let logger = opts.logger;
  const log = () => (logger ??= createLogger());
  const name = (t: LoadPlan['table']) =>
    t.schema ? `${quoteMysqlIdent(t.schema)}.${quoteMysqlIdent(t.name)}` : quoteMysqlIdent(t.name);

  /** One batch in one transaction; a failure rolls it back. */
  const inTransaction = async (work: () => Promise<void>) => {
    await q('START TRANSACTION');
    try {
      await work();
      await q('COMMIT');
    } catch (e) {
      await q('ROLLBACK').catch(() => {});
      throw e;
    }
  };

  /** LOAD DATA of the batch (and of those `rest` gives) into `into`, its warnings failing it, then `then` (the merge of a staging table), in one transaction. */
  const loadBatch = (into: string, plan: LoadPlan, batch: LoadBatch, then?: string, rest?: AsyncIterator<LoadBatch>) =>
    inTransaction(async () => {
      const sql = loadDataSql(into, plan.columns);
      const warnings = await runLoadData(conn, sql, batch, fieldKinds(plan.columns), chunks, rest);
      const problem = await loadWarnings(conn, warnings);
      if (problem) throw new Error(`LOAD DATA into ${into}: ${problem}`);
      if (then) await q(then);
    });
  /**
   * The statements for the table's staging table, made on first use (one per table and columns,
   * its merge written for each plan); undefined where it cannot be made (no CREATE TEMPORARY TABLES): INSERT then.
   */
  const stageFor = async (table: string, plan: LoadPlan): Promise<StageStatements | undefined> => {
    const key = `${table} ${plan.columns.map((c) => c.name).join(',')}`;
    let n = stages.get(key);
    if (n === undefined) {
      n = stages.size;
      const st = stageStatements(table, plan, n);
      try {
        await q(st.create);
      } catch (e) {
        // access denied to the database or table (no CREATE TEMPORARY TABLES); anything else is the table's own error
        const errno = (e as { errno?: unknown }).errno;
        if (errno !== 1044 && errno !== 1142) throw e;
        log().warn(
          { table, err: errorMessage(e) },
          'cannot create a temporary staging table for an upsert (needs CREATE TEMPORARY TABLES): loading with INSERT … ON DUPLICATE KEY UPDATE instead, which is slower',
        );
        n = -1;
      }
      stages.set(key, n);
    }
    return n < 0 ? undefined : stageStatements(table, plan, n);
  };

  /**
   * One batch, or with `rest` the batches after it too (plan insert only), in one transaction:
   * one LOAD DATA streaming them all, or the INSERTs of each.
   */
  const loadRows = async (plan: LoadPlan, batch: LoadBatch, rest?: AsyncIterator<LoadBatch>) => {
    const table = name(plan.table);
    // a tombstone's keys: staged like rows (the key columns alone), then one DELETE … JOIN
    const staged = batch.deletes ? keyPlan(plan) : plan;
    // a LOAD DATA refused before its stream read past the first batch can go as INSERTs from the start
    let read = false;
    const more: AsyncIterator<LoadBatch> | undefined = rest && {
      next: () => ((read = true), rest.next()),
    };
    if (loadData) {
      try {
        if (plan.conflict === 'insert' && !batch.deletes) return await loadBatch(table, plan, batch, undefined, more);
        const st = await stageFor(table, staged);
        if (st) {
          // outside the batch's transaction: TRUNCATE may commit
          await q(st.empty);
          return await loadBatch(st.stage, staged, batch, batch.deletes ? st.deleteMatching : st.merge);
        }
      } catch (e) {
        if (!isLocalInfileRefused(e) || read) throw e;
        loadData = false;
        log().warn(
          { table },
          'the MySQL server or client refuses LOAD DATA LOCAL INFILE (local_infile=OFF?): loading with multi-row INSERT instead, which is slower; SET GLOBAL local_infile = 1 to allow it',
        );
      }
    }
    // one statement runs while the next is built (the client's CPU overlaps the server's), never more
    let running: Promise<void> | undefined;
    const send = async (text: string) => {
      if (running) await running;
      running = q(text);
      running.catch(() => {}); // awaited before the next statement, the COMMIT or the ROLLBACK: never unhandled
    };
    try {
      await inTransaction(async () => {
        if (batch.deletes) await inserts.writeDelete(table, staged, batch, send);
        else await inserts.write(table, plan, batch, send);
        if (rest)
          for (let r = await rest.next(); !r.done; r = await rest.next())
            await inserts.write(table, plan, r.value, send);
        await running;
      });
    } finally {
      await running?.catch(() => {});
    }
  };

  return {
    engine: 'mysql',
    swap: mysqlSwap(conn, q),
    load: (plan, batch) => loadRows(plan, batch),
    async loadMany(plan, batches) {
      const it = batches[Symbol.asyncIterator]();
      if (plan.conflict !== 'insert') {
        // each batch merged on its own, as load does
        for (let r = await it.next(); !r.done; r = await it.next()) await loadRows(plan, r.value);
        return;
      }
      const first = await it.next();
      if (!first.done) await loadRows(plan, first.value, it);
    },
    truncate: (t) => q(`TRUNCATE TABLE ${name(t)}`),
    execute: q,
    async close() {
      await new Promise<void>((r) => conn.end(() => r()));
    },
  };
}
