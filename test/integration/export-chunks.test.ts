import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTableSegment, tableUrl } from '../../src/manifest/layout.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import {
  MYSQL,
  PG,
  chunkOf,
  folderFiles,
  keySpans,
  manifestNames,
  parquetFingerprint,
  type ChunkDb,
  type Fingerprint,
} from '../helpers/chunked.js';

/**
 * A table of 60,000 rows exported with --parallel 2 --chunk-rows 12500 to a local
 * directory is read in key ranges at once: each chunk's objects are named part-CCCCC-NNNNN, the
 * manifest lists every object of the folder once in key order, the objects hold exactly the
 * source's rows (a count, a sum and an order-independent hash, DuckDB against the database), and
 * restore and verify take the chunked export as any other. An integer key, a composite key whose
 * first column is text (three rows to each of its values), and on PostgreSQL a table without a
 * key, cut into ctid page ranges.
 */

// five chunks of three objects each, as 240,000 rows made with --chunk-rows 50000 --file-max-rows 20000
const ROWS = 60_000;
const ARGS = ['--parallel', '2', '--chunk-rows', '12500', '--file-max-rows', '5000', '--json'];

interface Case {
  table: string;
  ddl: string;
  fill: string;
  /** Hashed, in this order. */
  columns: string[];
  /** A DuckDB expression whose text sorts as the table's key (or, keyless, its insertion order). */
  key: string;
  keyed: boolean;
}

const cases = (db: ChunkDb): Case[] => [
  {
    table: 'tv_xc_int',
    ddl: 'CREATE TABLE tv_xc_int (id bigint PRIMARY KEY, n int NOT NULL, pad varchar(40) NOT NULL)',
    fill: `INSERT INTO tv_xc_int SELECT i, i % 1000, ${db.md5('i')} FROM ${db.series(ROWS)}`,
    columns: ['id', 'n', 'pad'],
    key: "lpad(id::VARCHAR, 12, '0')",
    keyed: true,
  },
  {
    table: 'tv_xc_comp',
    ddl: 'CREATE TABLE tv_xc_comp (k varchar(40) NOT NULL, j int NOT NULL, n int NOT NULL, PRIMARY KEY (k, j))',
    fill: `INSERT INTO tv_xc_comp SELECT ${db.md5(db.div('i', 3))}, i, i % 1000 FROM ${db.series(ROWS)}`,
    columns: ['k', 'j', 'n'],
    key: "k || ':' || lpad(j::VARCHAR, 12, '0')",
    keyed: true,
  },
  ...(db === PG
    ? [
        {
          table: 'tv_xc_nokey',
          ddl: 'CREATE TABLE tv_xc_nokey (seq int NOT NULL, n int NOT NULL, pad text NOT NULL)',
          fill: `INSERT INTO tv_xc_nokey SELECT i, i % 1000, md5(i::text) FROM ${db.series(ROWS)}`,
          columns: ['seq', 'n', 'pad'],
          // ctid ranges are in page order: a freshly filled table's pages hold its rows in insertion order
          key: "lpad(seq::VARCHAR, 12, '0')",
          keyed: false,
        },
      ]
    : []),
];

interface Outcome {
  exported: CliResult;
  names: string[];
  files: string[];
  spans: Map<string, { lo: string; hi: string }>;
  source: Fingerprint;
  backup: Fingerprint;
  restored: CliResult;
  copy?: Fingerprint;
  verified?: CliResult;
}

describe.each([PG, MYSQL].map((db) => [db.name, db] as const))('export in chunks (%s)', (_, db) => {
  const all = cases(db);
  const root = mkdtempSync(join(tmpdir(), 'tv-export-chunks-'));
  const dest = pathToFileURL(root).href;
  const out = new Map<string, Outcome>();
  const drop = () => db.exec(all.map((c) => `DROP TABLE IF EXISTS ${c.table}, ${c.table}_back`).join('; '));

  beforeAll(async () => {
    await drop();
    for (const c of all) await db.exec(`${c.ddl}; ${c.fill}; ${db.analyze(c.table)}`);
    for (const c of all) {
      const exported = await runCli(['export', '--source', db.url, '--table', c.table, '--dest', dest, ...ARGS]);
      const folder = join(root, encodeTableSegment({ schema: db.schema, name: c.table }));
      const names = exported.code === 0 ? manifestNames(folder) : [];
      const paths = names.map((n) => join(folder, n));
      const restored = await runCli([
        ...['restore', tableUrl(dest, { schema: db.schema, name: c.table })],
        ...['--target', db.url, '--table', `${c.table}_back`, '--create', '--json'],
      ]);
      out.set(c.table, {
        exported,
        names,
        files: folderFiles(folder),
        spans: await keySpans(paths, c.key),
        source: await db.fingerprint(c.table, c.columns),
        backup: await parquetFingerprint(paths, c.columns),
        restored,
        ...(restored.code === 0 ? { copy: await db.fingerprint(`${c.table}_back`, c.columns) } : {}),
        ...(c.keyed
          ? { verified: await runCli(['verify', '--source', db.url, '--table', c.table, '--dest', dest, '--json']) }
          : {}),
      });
    }
  });
  afterAll(async () => {
    await drop();
    rmSync(root, { recursive: true, force: true });
  });

  describe.each(all.map((c) => [c.table, c] as const))('%s', (table, c) => {
    const o = () => out.get(table)!;

    it('is exported', () => {
      expect(o().exported.code, o().exported.stderr).toBe(0);
    });

    it("is read in several chunks, each chunk's objects named part-CCCCC-NNNNN", () => {
      const chunks = o().names.map(chunkOf);
      expect(chunks).not.toContain(undefined);
      const distinct = [...new Set(chunks)];
      expect(distinct.length).toBeGreaterThanOrEqual(3);
      expect(distinct).toEqual(distinct.map((_c, i) => i));
      expect(o().names.length).toBeGreaterThan(distinct.length); // --file-max-rows cut chunks into several objects
    });

    it('the manifest lists every object of the folder, each once', () => {
      expect(new Set(o().names).size).toBe(o().names.length);
      expect([...o().names, '_manifest.json'].sort()).toEqual(o().files);
    });

    it(`the manifest lists the objects in ${c.keyed ? 'key' : 'page'} order, their ranges apart`, () => {
      expect(o().names).toEqual([...o().names].sort());
      const spans = o().names.map((n) => o().spans.get(n)!);
      for (let i = 1; i < spans.length; i++) expect(spans[i - 1]!.hi < spans[i]!.lo, o().names[i]).toBe(true);
    });

    it("DuckDB reads exactly the source's rows from the objects: count, sum and hash", () => {
      expect(o().backup).toEqual(o().source);
      expect(o().source.rows).toBe(String(ROWS));
    });

    it("restores to a copy with the source's rows: count, sum and hash", () => {
      expect(o().restored.code, o().restored.stderr).toBe(0);
      expect(o().copy).toEqual(o().source);
    });

    it.runIf(c.keyed)('verify finds the chunked export equal to the source', () => {
      const v = o().verified!;
      expect(v.code, v.stderr).toBe(0);
      expect(JSON.parse(v.stdout)).toMatchObject({ equal: true, tables: [{ backupRows: ROWS, equal: true }] });
    });
  });
});
