import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';

/**
 * Restore and verify tell an incremental backup's rows apart by the table's primary key, which
 * may hold the cursor: `cursor: id` on a table keyed by id, or a key (at, id) with cursor at.
 * Before the manifest recorded the key, both were read as "the key columns after the cursor":
 * none for the first (restore and verify refused the backup), only `id` for the second.
 */
const STATE = 'tv_inc_key_state';
const stateUrl = PG_URL.replace(/\/[^/]*$/, `/${STATE}`);

describe('incremental backups whose primary key holds the cursor', () => {
  let dir: string;
  const restored: Record<string, CliResult> = {};
  const verified: Record<string, CliResult> = {};
  const rows: Record<string, unknown[]> = {};
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tv-inc-key-'));
    await withPg(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${STATE}`);
      await c.query(`CREATE DATABASE ${STATE}`);
      await c.query(`DROP TABLE IF EXISTS tv_ik_id, tv_ik_pair, tv_ik_id_back, tv_ik_pair_back`);
      await c.query(`CREATE TABLE tv_ik_id (id int PRIMARY KEY, v text)`);
      await c.query(`INSERT INTO tv_ik_id SELECT g, 'v' || g FROM generate_series(1, 50) g`);
      // the same id at two times: two rows, not two versions of one
      await c.query(`CREATE TABLE tv_ik_pair (at int NOT NULL, id int NOT NULL, v text, PRIMARY KEY (at, id))`);
      await c.query(
        `INSERT INTO tv_ik_pair SELECT t, g, 'v' || g FROM generate_series(1, 20) g, generate_series(1, 2) t`,
      );
    });
    const file = join(dir, 'strategy.yaml');
    writeFileSync(
      file,
      `source: ${PG_URL}\ndestination: ${pathToFileURL(dir).href}\nstate: ${stateUrl}\ntables:\n` +
        `  - table: public.tv_ik_id\n    strategy: incremental\n    cursor: id\n` +
        `  - table: public.tv_ik_pair\n    strategy: incremental\n    cursor: at\n`,
    );
    const b = await runCli(['backup', file]);
    if (b.code !== 0) throw new Error(b.stderr);
    for (const t of ['tv_ik_id', 'tv_ik_pair']) {
      const from = pathToFileURL(join(dir, `public.${t}`)).href;
      restored[t] = await runCli(['restore', from, '--target', PG_URL, '--table', `${t}_back`, '--create']);
      verified[t] = await runCli(['verify', '--source', PG_URL, '--table', t, '--dest', pathToFileURL(dir).href]);
      // a failed restore leaves no table: no rows, and the restore's own test says why
      rows[t] = await withPg(async (c) => (await c.query(`SELECT * FROM ${t}_back ORDER BY 1, 2`)).rows).catch(
        () => [],
      );
    }
  });
  afterAll(async () => {
    await withPg(async (c) => {
      await c.query(`DROP TABLE IF EXISTS tv_ik_id, tv_ik_pair, tv_ik_id_back, tv_ik_pair_back`);
      await c.query(`DROP DATABASE IF EXISTS ${STATE}`);
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores a table whose cursor is its whole primary key', () => {
    expect(restored.tv_ik_id!.code, restored.tv_ik_id!.stderr).toBe(0);
    expect(rows.tv_ik_id).toHaveLength(50);
  });

  it('verifies a table whose cursor is its whole primary key as equal', () => {
    expect(verified.tv_ik_id!.code, verified.tv_ik_id!.stdout + verified.tv_ik_id!.stderr).toBe(0);
  });

  it('restores every row of a key (cursor, id), not one per id', () => {
    expect(restored.tv_ik_pair!.code, restored.tv_ik_pair!.stderr).toBe(0);
    expect(rows.tv_ik_pair).toHaveLength(40);
  });

  it('verifies a table keyed by (cursor, id) as equal', () => {
    expect(verified.tv_ik_pair!.code, verified.tv_ik_pair!.stdout + verified.tv_ik_pair!.stderr).toBe(0);
  });
});
