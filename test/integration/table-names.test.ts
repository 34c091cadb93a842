import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTableSegment } from '../../src/manifest/layout.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
import { createBucket, listKeys, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

/** A table whose name is not plain: how SQL and `--table` spell it, and its schema and name. */
interface Case {
  ref: string;
  schema: string;
  name: string;
}

// under the old layout the first two shared the folder public.tv_n.b, and the third left its folder
const PG_CASES: Case[] = [
  { ref: 'public."tv_n.b"', schema: 'public', name: 'tv_n.b' },
  { ref: '"public.tv_n".b', schema: 'public.tv_n', name: 'b' },
  { ref: 'public."../../tv_evil"', schema: 'public', name: '../../tv_evil' },
  { ref: 'public."Tv Names ""q"" 100% é😀"', schema: 'public', name: 'Tv Names "q" 100% é😀' },
];
// MySQL identifiers hold only the Basic Multilingual Plane, and may not end in a space
const MYSQL_CASES: Case[] = [
  { ref: `${MYSQL_DB}."Tv.Names ""q"" 100% é"`, schema: MYSQL_DB, name: 'Tv.Names "q" 100% é' },
  { ref: `${MYSQL_DB}."../../tv_evil"`, schema: MYSQL_DB, name: '../../tv_evil' },
];

const COLUMNS = '(id int PRIMARY KEY, v text, at int NOT NULL)';
const ROWS = "(1, 'one', 1), (2, 'a/b.c %2E', 1), (3, NULL, 2)";
const mysqlIdent = (c: Case) => `\`${c.schema}\`.\`${c.name}\``;

/** Drops the cases' tables and the restored copies named `<back>_<i>`, then creates the cases' tables with their rows. */
async function createPgTables(cases: Case[], back: string): Promise<void> {
  await dropPgTables(cases, back);
  const create = cases.map(
    (x, i) => `CREATE TABLE ${x.ref} ${COLUMNS}; INSERT INTO ${x.ref} VALUES ${ROWS}, (${10 + i}, '${i}', 3);`,
  );
  await withPg((c) => c.query(`CREATE SCHEMA "public.tv_n"; ${create.join(' ')}`));
}

async function dropPgTables(cases: Case[], back: string): Promise<void> {
  const drop = cases.map((x, i) => `DROP TABLE IF EXISTS ${x.ref}, ${back}_${i};`);
  await withPg((c) => c.query(`DROP SCHEMA IF EXISTS "public.tv_n" CASCADE; ${drop.join(' ')}`));
}

async function pgRows(from: string): Promise<unknown[]> {
  return withPg(async (c) => (await c.query(`SELECT id, v, at FROM ${from} ORDER BY id`)).rows);
}

async function mysqlRows(from: string): Promise<unknown[]> {
  return withMysql(async (c) => (await c.query(`SELECT id, v, at FROM ${from} ORDER BY id`))[0] as unknown[]);
}

/** A fresh local destination inside a folder of its own, so anything that escapes it shows. */
function localDest(): { root: string; dest: string } {
  const root = mkdtempSync(join(tmpdir(), 'tv-names-'));
  const dest = join(root, 'dest');
  mkdirSync(dest);
  return { root, dest };
}

const folderUrl = (dest: string, c: Case) => pathToFileURL(join(dest, encodeTableSegment(c))).href;

describe('PostgreSQL tables whose names are not plain', () => {
  const { root, dest } = localDest();
  const exports: CliResult[] = [];
  const restores: CliResult[] = [];
  const verifies: CliResult[] = [];
  beforeAll(async () => {
    await createPgTables(PG_CASES, 'tv_names_back');
    for (const c of PG_CASES)
      exports.push(await runCli(['export', '--source', PG_URL, '--table', c.ref, '--dest', pathToFileURL(dest).href]));
    for (const [i, c] of PG_CASES.entries())
      restores.push(
        await runCli(['restore', folderUrl(dest, c), '--target', PG_URL, '--table', `tv_names_back_${i}`, '--create']),
      );
    for (const c of PG_CASES)
      verifies.push(await runCli(['verify', '--source', PG_URL, '--table', c.ref, '--dest', pathToFileURL(dest).href]));
  });
  afterAll(async () => {
    await dropPgTables(PG_CASES, 'tv_names_back');
    rmSync(root, { recursive: true, force: true });
  });

  it('exports each table', () => {
    for (const r of exports) expect(r.code, r.stderr).toBe(0);
  });

  it('gives public."a.b" and schema "public.a" table b folders of their own', () => {
    expect(readdirSync(dest)).toContain('public.tv_n%2Eb');
    expect(readdirSync(dest)).toContain('public%2Etv_n.b');
  });

  it('keeps a table named ../../evil in one folder inside the destination, with the parts its manifest names', () => {
    expect(readdirSync(root)).toEqual(['dest']);
    expect(readdirSync(join(dest, 'public.%2E%2E%2F%2E%2E%2Ftv_evil')).sort()).toEqual([
      '_manifest.json',
      'part-00000.parquet',
    ]);
  });

  it('writes one folder per table and nothing else', () => {
    expect(readdirSync(dest).sort()).toEqual(PG_CASES.map(encodeTableSegment).sort());
    for (const c of PG_CASES) expect(existsSync(join(dest, encodeTableSegment(c), '_manifest.json'))).toBe(true);
  });

  it('restores each table equal to its own source', async () => {
    for (const r of restores) expect(r.code, r.stderr).toBe(0);
    for (const [i, c] of PG_CASES.entries()) expect(await pgRows(`tv_names_back_${i}`)).toEqual(await pgRows(c.ref));
  });

  it('verify finds each export under a file:// destination equal to its table', () => {
    for (const r of verifies) expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe('a strategy backing up tables whose names are not plain, mirrored to S3 (s3rver)', () => {
  const target = s3Targets()[0]!;
  const env = s3EnvFor(target);
  const cases = PG_CASES.slice(0, 3);
  let bucket: string;
  let archive: string;
  let file: string;
  let backup: CliResult;
  let verify: CliResult;
  let restores: CliResult[];
  // a state database of its own: the test database's state tables may be at another branch's migrations
  const stateUrl = Object.assign(new URL(PG_URL), { pathname: '/tv_names_state' }).href;
  const dropState = () => withPg((c) => c.query('DROP DATABASE IF EXISTS tv_names_state WITH (FORCE)'));
  beforeAll(async () => {
    await createPgTables(cases, 'tv_names_mirror');
    await dropState();
    await withPg((c) => c.query('CREATE DATABASE tv_names_state'));
    const client = makeS3Client(target);
    [bucket, archive] = [await createBucket(client), await createBucket(client)];
    const root = mkdtempSync(join(tmpdir(), 'tv-names-'));
    file = join(root, 'strategy.yaml');
    writeFileSync(
      file,
      `source: ${PG_URL}\nstate: ${stateUrl}\ndestination: s3://${bucket}/nightly\ntables:\n${cases.map((c) => `  - table: '${c.ref}'\n    strategy: incremental\n    cursor: at\n`).join('')}mirror:\n  - dest: s3://${archive}/nightly\n`,
    );
    backup = await runCli(['backup', file], env);
    verify = await runCli(['verify', file], env);
    restores = [];
    for (const [i, c] of cases.entries())
      restores.push(
        await runCli(
          [
            'restore',
            `s3://${archive}/nightly/${encodeTableSegment(c)}`,
            '--target',
            PG_URL,
            '--table',
            `tv_names_mirror_${i}`,
            '--create',
          ],
          env,
        ),
      );
  });
  afterAll(async () => {
    await dropPgTables(cases, 'tv_names_mirror');
    await dropState();
  });

  it('backs up and mirrors every table', () => {
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
  });

  it('puts each table under its own folder in the mirror', async () => {
    const folders = new Set((await listKeys(makeS3Client(target), archive, 'nightly/')).map((k) => k.split('/')[1]));
    expect([...folders].sort()).toEqual(cases.map(encodeTableSegment).sort());
  });

  it('verify finds each backup equal to its own table', () => {
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('restores each table from the mirror equal to its source', async () => {
    for (const r of restores) expect(r.code, r.stderr).toBe(0);
    for (const [i, c] of cases.entries()) expect(await pgRows(`tv_names_mirror_${i}`)).toEqual(await pgRows(c.ref));
  });
});

describe('MySQL tables whose names are not plain', () => {
  const { root, dest } = localDest();
  const exports: CliResult[] = [];
  const restores: CliResult[] = [];
  const dropAll = () =>
    withMysql((c) =>
      c.query(MYSQL_CASES.map((x, i) => `DROP TABLE IF EXISTS ${mysqlIdent(x)}, tv_names_back_${i};`).join(' ')),
    );
  beforeAll(async () => {
    await dropAll();
    await withMysql((c) =>
      c.query(
        MYSQL_CASES.map(
          (x, i) =>
            `CREATE TABLE ${mysqlIdent(x)} ${COLUMNS}; INSERT INTO ${mysqlIdent(x)} VALUES ${ROWS}, (${10 + i}, '${i}', 3);`,
        ).join(' '),
      ),
    );
    for (const c of MYSQL_CASES)
      exports.push(
        await runCli(['export', '--source', MYSQL_URL, '--table', c.ref, '--dest', pathToFileURL(dest).href]),
      );
    for (const [i, c] of MYSQL_CASES.entries())
      restores.push(
        await runCli([
          'restore',
          folderUrl(dest, c),
          '--target',
          MYSQL_URL,
          '--table',
          `tv_names_back_${i}`,
          '--create',
        ]),
      );
  });
  afterAll(async () => {
    await dropAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('exports each table into a folder of its own inside the destination', () => {
    for (const r of exports) expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(root)).toEqual(['dest']);
    expect(readdirSync(dest).sort()).toEqual([
      `${MYSQL_DB}.%2E%2E%2F%2E%2E%2Ftv_evil`,
      `${MYSQL_DB}.Tv%2ENames%20%22q%22%20100%25%20%C3%A9`,
    ]);
  });

  it('restores each table equal to its own source', async () => {
    for (const r of restores) expect(r.code, r.stderr).toBe(0);
    for (const [i, c] of MYSQL_CASES.entries())
      expect(await mysqlRows(`tv_names_back_${i}`)).toEqual(await mysqlRows(mysqlIdent(c)));
  });
});
