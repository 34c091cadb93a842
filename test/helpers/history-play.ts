import { fileURLToPath } from 'node:url';
import { strategyFile } from './backup.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from './db.js';
import { createBucket, listKeys, makeS3Client, type S3Target } from './s3.js';
import { history } from '../../bench/history.js';
import type * as Tablevault from '../../src/index.js';

/**
 * The retention simulation's history played against one engine (retention-history.test.ts): 40
 * nightly runs of bench/history.ts backed up to s3rver with compaction, retention and a mirror,
 * recording after each run its id, the source's rows and each target's objects.
 *
 * The backups and restores run in the test's process, through the built library (its Parquet
 * encoder is a worker file of dist/): spawning the CLI for each of 80 backups cost about a second
 * apiece in start-up alone.
 */

export type Row = Record<string, string | null>;
export type Library = typeof Tablevault;

export const lib = (): Promise<Library> =>
  import(fileURLToPath(new URL('../../dist/index.js', import.meta.url))) as Promise<Library>;

export const RUNS = 40;
export const KEEP_RUNS = 12;
const STATE_DB = 'tv_rethist_state';
const TABLE = 'tv_rethist';
const RESTORED = 'tv_rethist_r';
/**
 * After these runs the oldest kept run is restored --as-of there and then (it is 10, 11, 19, 20,
 * 21): a generation's own run, the run after it, the longest chain of runs on a generation, and
 * so on; later runs delete what those restores read.
 */
export const OLDEST_CHECKS = [21, 22, 30, 31, 32];

export interface Engine {
  name: string;
  url: string;
  schema: string;
  sql: (q: string) => Promise<Array<Record<string, unknown>>>;
  createTable: string;
  freshState: string[];
}

export const ENGINES: Engine[] = [
  {
    name: 'PostgreSQL',
    url: PG_URL,
    schema: 'public',
    sql: (q) => withPg(async (c) => (await c.query(q)).rows as Array<Record<string, unknown>>),
    createTable: `CREATE TABLE ${TABLE} (id int PRIMARY KEY, v varchar(40), n int, updated_at timestamp(6) NOT NULL)`,
    freshState: [`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`, `CREATE DATABASE ${STATE_DB}`],
  },
  {
    name: 'MariaDB',
    url: MYSQL_URL,
    schema: MYSQL_DB,
    sql: (q) => withMysql(async (c) => (await c.query(q))[0] as Array<Record<string, unknown>>),
    createTable: `CREATE TABLE ${TABLE} (id INT PRIMARY KEY, v VARCHAR(40), n INT, updated_at DATETIME(6) NOT NULL)`,
    freshState: [`DROP DATABASE IF EXISTS ${STATE_DB}`, `CREATE DATABASE ${STATE_DB}`],
  },
];

/** What one run of the history left: its id, the source's rows, each target's object keys. */
export interface RunRecord {
  runId: string;
  compacted?: number;
  /** The run's report of its expire, and its warnings. */
  expired?: { oldestKept?: { runId: string }; runsKept: number; objects: number };
  warnings: string[];
  source: Row[];
  primary: string[];
  mirror: string[];
  /** Objects that first appeared with this run: its generation's parts, and its own objects. */
  generation: string[];
  own: string[];
  /** OLDEST_CHECKS: the oldest kept run restored --as-of right after this run. */
  oldest?: { run: number; rows: Row[] };
}

const text = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);

/** One engine's side of the simulation: its buckets, strategy file, and how to read and restore. */
export class Played {
  readonly records: RunRecord[] = [];
  primary = '';
  mirror = '';
  file = '';
  readonly segment: string;

  constructor(
    readonly e: Engine,
    private readonly library: Library,
    private readonly target: S3Target,
  ) {
    this.segment = `${e.schema}.${TABLE}`;
  }

  readonly restoredTable = RESTORED;

  async rowsOf(table: string = TABLE): Promise<Row[]> {
    return (await this.e.sql(`SELECT * FROM ${table} ORDER BY id`)).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)])),
    );
  }

  from(bucket: string): string {
    return `s3://${bucket}/hist/${this.segment}`;
  }

  /** Every object of the table's prefix in `bucket` but its manifest, sorted. */
  async objects(bucket: string): Promise<string[]> {
    const keys = await listKeys(makeS3Client(this.target), bucket, `hist/${this.segment}/`);
    return keys.filter((k) => !k.endsWith('/_manifest.json'));
  }

  /** restore --create (--as-of) into a fresh table, through the library; its rows. */
  async restoredRows(bucket: string, asOf?: string): Promise<Row[]> {
    await this.e.sql(`DROP TABLE IF EXISTS ${RESTORED}`);
    const logger = this.library.createLogger({ level: 'warn' });
    const opts = { from: this.from(bucket), target: this.e.url, table: RESTORED, create: true, asOf };
    await this.library.restoreTable(opts, { logger });
    return this.rowsOf(RESTORED);
  }

  async play(): Promise<this> {
    const { e } = this;
    for (const q of e.freshState) await e.sql(q);
    await e.sql(`DROP TABLE IF EXISTS ${TABLE}, ${RESTORED}`);
    await e.sql(e.createTable);
    const client = makeS3Client(this.target);
    [this.primary, this.mirror] = [await createBucket(client), await createBucket(client)];
    const state = Object.assign(new URL(e.url), { pathname: `/${STATE_DB}` }).href;
    this.file = strategyFile(
      () => `source: ${e.url}
state: ${state}
destination: s3://${this.primary}/hist
defaults: { compact_every: 10, retention: { keep_runs: ${KEEP_RUNS} } }
tables:
  - table: ${this.segment}
    strategy: incremental
    cursor: updated_at
mirror:
  - dest: s3://${this.mirror}/hist
`,
    ).file;
    const logger = this.library.createLogger({ level: 'warn' });
    const seen = new Set<string>();
    const runs = history({ table: TABLE, runs: RUNS, seed: 19, initialRows: 200, addColumnAt: 34 });
    for (const sql of runs) {
      await e.sql(sql);
      const t = (await this.library.runBackup({ strategy: this.file }, { logger })).tables[0]!;
      const n = this.records.length + 1;
      if (t.status !== 'ok') throw new Error(`${e.name} run ${n}: ${t.status}: ${t.error}`);
      const keys = await this.objects(this.primary);
      const fresh = keys.filter((k) => !seen.has(k));
      for (const k of fresh) seen.add(k);
      this.records.push({
        runId: t.runId!,
        compacted: t.compacted?.generation,
        expired: t.expired,
        warnings: t.warnings,
        source: await this.rowsOf(),
        primary: keys,
        mirror: await this.objects(this.mirror),
        generation: fresh.filter((k) => k.includes('/gen-')),
        own: fresh.filter((k) => !k.includes('/gen-')),
      });
      const oldest = n - KEEP_RUNS + 1;
      if (OLDEST_CHECKS.includes(n))
        this.records.at(-1)!.oldest = {
          run: oldest,
          rows: await this.restoredRows(this.primary, this.records[oldest - 1]!.runId),
        };
    }
    return this;
  }
}

/** Drops what a history made in the engine: its tables and its state database. */
export async function dropHistory(e: Engine): Promise<void> {
  await e.sql(`DROP TABLE IF EXISTS ${TABLE}, ${RESTORED}`);
  await e.sql(e.freshState[0]!);
}
