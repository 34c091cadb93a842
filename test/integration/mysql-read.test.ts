import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, withMysql } from '../helpers/db.js';
import { readParquetRows } from '../helpers/duckdb.js';

/**
 * MySQL rows are decoded from mysql2's packets by tablevault itself (src/source/mysql/text-rows.ts):
 * the field lengths of one, three and four bytes (the nine-byte form needs a 16 MiB value), NULLs,
 * keyset pages, and a table without a primary key read as one SELECT paused at each batch.
 */

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tv-myread-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function exportDir(table: string, extra: string[] = []) {
  const dir = mkdtempSync(join(work, `${table}-`));
  const summary = jsonSummary<{ rows: number }>(
    await runCli([
      'export',
      '--source',
      MYSQL_URL,
      '--table',
      `${MYSQL_DB}.${table}`,
      '--dest',
      pathToFileURL(dir).href,
      '--json',
      ...extra,
    ]),
  );
  const sub = join(dir, `${MYSQL_DB}.${table}`);
  const files = readdirSync(sub)
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => join(sub, f));
  return { summary, rows: await readParquetRows(files, { orderBy: 'n' }) };
}

const sha = (v: unknown) =>
  v === null
    ? null
    : createHash('sha256')
        .update(v as Uint8Array | string)
        .digest('hex');

describe('export: MySQL rows decoded from the packets', () => {
  const lengths = [0, 1, 250, 251, 252, 65535, 65536, 70000, 300000];

  async function load(pk: boolean): Promise<void> {
    await withMysql((c) =>
      c.query(`
      DROP TABLE IF EXISTS tv_myread;
      CREATE TABLE tv_myread (n INT NOT NULL${pk ? ' PRIMARY KEY' : ''}, t MEDIUMTEXT, b MEDIUMBLOB, d DATETIME(6), x DECIMAL(12,2));
      ${lengths.map((len, i) => `INSERT INTO tv_myread VALUES (${i}, REPEAT('é', ${len}), ${len ? `UNHEX(REPEAT('00ff', ${len}))` : "''"}, ${i % 3 ? `'2024-0${1 + (i % 9)}-02 03:04:05.${String(i).padStart(6, '0')}'` : 'NULL'}, ${i % 2 ? `-${i}.25` : 'NULL'});`).join('\n')}
      INSERT INTO tv_myread VALUES (100, NULL, NULL, NULL, NULL);`),
    );
  }

  async function check(rows: Array<Record<string, unknown>>): Promise<void> {
    const source = await withMysql(async (c) => {
      const [r] = await c.query(
        'SELECT n, SHA2(t, 256) AS t, SHA2(b, 256) AS b, CAST(d AS CHAR) AS d, CAST(x AS CHAR) AS x FROM tv_myread ORDER BY n',
      );
      return r as Array<{ n: number; t: string | null; b: string | null; d: string | null; x: string | null }>;
    });
    expect(rows.length).toBe(lengths.length + 1);
    expect(rows.map((r) => ({ n: r.n, t: sha(r.t as string | null), b: sha(r.b), d: r.d, x: r.x }))).toEqual(source);
  }

  it('keyset pages of 2 rows: every length encoding, NULLs, and the key carried from page to page', async () => {
    await load(true);
    const { summary, rows } = await exportDir('tv_myread', ['--batch-rows', '2']);
    expect(summary.rows).toBe(lengths.length + 1);
    await check(rows);
  });

  it('no primary key: one SELECT, the connection paused at each batch of 3', async () => {
    await load(false);
    const { summary, rows } = await exportDir('tv_myread', ['--batch-rows', '3']);
    expect(summary.rows).toBe(lengths.length + 1);
    await check(rows);
  });
});
