import type { Loader, LoadPlan } from '../loader.js';
import { quoteMysqlIdent } from './quote.js';
import { mysqlConnectionOptions } from './connection.js';
import { NUMBER_KINDS, type ColumnKind } from '../columns.js';

const NUMERIC: ReadonlySet<ColumnKind> = new Set<ColumnKind>(['bool', ...NUMBER_KINDS]);

/** A restore's loader into MySQL/MariaDB: multi-row INSERT (… ON DUPLICATE KEY UPDATE when rows may conflict), strict mode. */
export async function openLoader(url: string): Promise<Loader> {
  const mysql = (await import('mysql2')).default;
  const conn = mysql.createConnection({ ...mysqlConnectionOptions(url), timezone: 'Z' });
  const q = (s: string) =>
    new Promise<void>((resolve, reject) => conn.query(s, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  // strict: a value the column cannot hold is an error, never a silent truncation; backslash escapes on (they are used below)
  await q(
    "SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
  );
  const name = (t: LoadPlan['table']) =>
    t.schema ? `${quoteMysqlIdent(t.schema)}.${quoteMysqlIdent(t.name)}` : quoteMysqlIdent(t.name);
  return {
    engine: 'mysql',
    async load(plan, batch) {
      const cols = plan.columns.map((c) => quoteMysqlIdent(c.name)).join(', ');
      const kinds = plan.columns.map((c) => (c.kind === 'binary' ? 'hex' : NUMERIC.has(c.kind) ? 'raw' : 'str'));
      let tail = '';
      if (plan.conflict !== 'insert') {
        const cur = plan.cursor ? quoteMysqlIdent(plan.cursor) : '';
        // the cursor is assigned last: the other assignments compare against the stored, not the new, cursor
        const others = plan.columns.filter((c) => !plan.primaryKey.includes(c.name) && c.name !== plan.cursor);
        const assign = (c: string) =>
          plan.conflict === 'newest'
            ? `${c} = IF(VALUES(${cur}) >= ${cur}, VALUES(${c}), ${c})`
            : `${c} = VALUES(${c})`;
        const sets = [
          ...others.map((c) => assign(quoteMysqlIdent(c.name))),
          ...(plan.cursor && !plan.primaryKey.includes(plan.cursor) ? [assign(cur)] : []),
        ];
        tail = sets.length
          ? ` ON DUPLICATE KEY UPDATE ${sets.join(', ')}`
          : ` ON DUPLICATE KEY UPDATE ${quoteMysqlIdent(plan.primaryKey[0]!)} = ${quoteMysqlIdent(plan.primaryKey[0]!)}`;
      }
      const head = `INSERT INTO ${name(plan.table)} (${cols}) VALUES `;
      await q('START TRANSACTION');
      try {
        let values: string[] = [];
        let size = 0;
        const flush = async () => {
          if (values.length) await q(head + values.join(',') + tail);
          values = [];
          size = 0;
        };
        for (let r = 0; r < batch.numRows; r++) {
          const row = batch.cells.map((cell, c) => {
            const v = cell(r);
            if (v === null) return 'NULL';
            // numbers (booleans come as 1/0 for MySQL) as they are; text quoted by mysql2's escaping, as the source's literals
            return kinds[c] === 'hex' ? `X'${v}'` : kinds[c] === 'raw' ? v : mysql.escape(v);
          });
          const text = `(${row.join(',')})`;
          values.push(text);
          size += text.length;
          if (size > 1 << 20) await flush(); // well under the default max_allowed_packet (16 MiB)
        }
        await flush();
        await q('COMMIT');
      } catch (e) {
        await q('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    truncate: (t) => q(`TRUNCATE TABLE ${name(t)}`),
    execute: q,
    async close() {
      await new Promise<void>((r) => conn.end(() => r()));
    },
  };
}
