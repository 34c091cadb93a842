import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strategyFile } from '../helpers/backup.js';
import { jsonSummary, runCli } from '../helpers/cli.js';
import { MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
import { history } from '../../bench/history.js';
import { createBucket, listKeys, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';
import type * as Tablevault from '../../src/index.js';

/**
 * Issue 19's simulation: 40 nightly runs of a seeded history (inserts, updates, deletes, keys
 * deleted and inserted again, one added column) with compaction every 10 runs, retention of the
 * 12 newest runs and a mirror in a second bucket. Every kept run restores --as-of to the source as
 * it was at that run, the latest state and verify are exact, after every run each target holds
 * every object a kept run reads and none of the expired runs' others, and an expired run is
 * refused naming the oldest kept one.
 */

type Row = Record<string, string | null>;
type Library = typeof Tablevault;

/**
 * The backups and restores run in this process, through the built library (its Parquet encoder
 * is a worker file of dist/): spawning the CLI for each of 80 backups cost about a second apiece
 * in start-up alone. What the CLI alone decides (exit codes, --json of verify and expire) is
 * asked of the CLI.
 */
const lib = (): Promise<Library> =>
  import(fileURLToPath(new URL('../../dist/index.js', import.meta.url))) as Promise<Library>;

const RUNS = 40;
const KEEP_RUNS = 12;
const STATE_DB = 'tv_rethist_state';
const TABLE = 'tv_rethist';
const RESTORED = 'tv_rethist_r';
/**
 * After these runs the oldest kept run is restored --as-of there and then (it is 10, 11, 19, 20,
 * 21): a generation's own run, the run after it, the longest chain of runs on a generation, and
 * so on; later runs delete what those restores read.
 */
const OLDEST_CHECKS = [21, 22, 30, 31, 32];

const engines = [
  {
    name: 'PostgreSQL',
    url: PG_URL,
    schema: 'public',
    sql: (q: string) => withPg(async (c) => (await c.query(q)).rows as Array<Record<string, unknown>>),
    createTable: `CREATE TABLE ${TABLE} (id int PRIMARY KEY, v varchar(40), n int, updated_at timestamp(6) NOT NULL)`,
    freshState: [`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`, `CREATE DATABASE ${STATE_DB}`],
  },
  {
    name: 'MariaDB',
    url: MYSQL_URL,
    schema: 'test',
    sql: (q: string) => withMysql(async (c) => (await c.query(q))[0] as Array<Record<string, unknown>>),
    createTable: `CREATE TABLE ${TABLE} (id INT PRIMARY KEY, v VARCHAR(40), n INT, updated_at DATETIME(6) NOT NULL)`,
    freshState: [`DROP DATABASE IF EXISTS ${STATE_DB}`, `CREATE DATABASE ${STATE_DB}`],
  },
];

const text = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);

/** What one run of the history left: its id, the source's rows, each target's object keys. */
interface RunRecord {
  runId: string;
  compacted?: number;
  source: Row[];
  primary: string[];
  mirror: string[];
  /** Objects that first appeared with this run: its generation's parts, and its own objects. */
  generation: string[];
  own: string[];
  /** OLDEST_CHECKS: the oldest kept run restored --as-of right after this run. */
  oldest?: { run: number; rows: Row[] };
}

/**
 * The objects restore --as-of run `r` (1-based) reads, by the restore rule: the parts of the
 * newest generation written by run r or before, then the runs' own objects after it up to r.
 */
function readBy(records: RunRecord[], r: number): Set<string> {
  let base = 0;
  for (let i = 1; i <= r; i++) if (records[i - 1]!.generation.length) base = i;
  const out = new Set(base ? records[base - 1]!.generation : []);
  for (let i = base + 1; i <= r; i++) for (const k of records[i - 1]!.own) out.add(k);
  return out;
}

/**
 * After run `r`: what the kept runs read, and what the expired runs wrote that none of them reads
 * (a kept run's own objects that its generation stands for may go or stay).
 */
function expected(records: RunRecord[], r: number): { needed: Set<string>; gone: Set<string> } {
  const first = Math.max(1, r - KEEP_RUNS + 1);
  const needed = new Set<string>();
  for (let k = first; k <= r; k++) for (const key of readBy(records, k)) needed.add(key);
  const gone = new Set<string>();
  for (let k = 1; k < first; k++)
    for (const key of [...records[k - 1]!.generation, ...records[k - 1]!.own]) if (!needed.has(key)) gone.add(key);
  return { needed, gone };
}

/** Restore loads at the latest schema: a run before a column was added restores it NULL (README, schema changes). */
const padded = (rows: Row[], columns: string[]): Row[] =>
  rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null])));

describe.each(engines)('retention over 40 nightly runs ($name)', (e) => {
  const target = s3Targets()[0]!;
  const env = s3EnvFor(target);
  const client = makeS3Client(target);
  const segment = `${e.schema}.${TABLE}`;
  const runs = history({ table: TABLE, runs: RUNS, seed: 19, initialRows: 200, addColumnAt: 34 });
  const records: RunRecord[] = [];
  const savedEnv = { ...process.env };
  let primary: string;
  let mirror: string;
  let file: string;
  let library: Library;

  const rowsOf = async (table: string) =>
    (await e.sql(`SELECT * FROM ${table} ORDER BY id`)).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)])),
    ) as Row[];
  const objects = async (bucket: string) =>
    (await listKeys(client, bucket, `hist/${segment}/`)).filter((k) => !k.endsWith('/_manifest.json'));
  const from = (bucket: string) => `s3://${bucket}/hist/${segment}`;
  const restoredRows = async (bucket: string, asOf?: string) => {
    await e.sql(`DROP TABLE IF EXISTS ${RESTORED}`);
    const logger = library.createLogger({ level: 'warn' });
    await library.restoreTable({ from: from(bucket), target: e.url, table: RESTORED, create: true, asOf }, { logger });
    return rowsOf(RESTORED);
  };

  beforeAll(async () => {
    library = await lib();
    Object.assign(process.env, env);
    for (const q of e.freshState) await e.sql(q);
    await e.sql(`DROP TABLE IF EXISTS ${TABLE}, ${RESTORED}`);
    await e.sql(e.createTable);
    [primary, mirror] = [await createBucket(client), await createBucket(client)];
    const state = Object.assign(new URL(e.url), { pathname: `/${STATE_DB}` }).href;
    ({ file } = strategyFile(
      () => `source: ${e.url}
state: ${state}
destination: s3://${primary}/hist
defaults: { compact_every: 10, retention: { keep_runs: ${KEEP_RUNS} } }
tables:
  - table: ${segment}
    strategy: incremental
    cursor: updated_at
mirror:
  - dest: s3://${mirror}/hist
`,
    ));
    const logger = library.createLogger({ level: 'warn' });
    const seen = new Set<string>();
    for (const sql of runs) {
      await e.sql(sql);
      const t = (await library.runBackup({ strategy: file }, { logger })).tables[0]!;
      if (t.status !== 'ok') throw new Error(`run ${records.length + 1}: ${t.status}: ${t.error}`);
      const keys = await objects(primary);
      const fresh = keys.filter((k) => !seen.has(k));
      for (const k of fresh) seen.add(k);
      records.push({
        runId: t.runId!,
        compacted: t.compacted?.generation,
        source: await rowsOf(TABLE),
        primary: keys,
        mirror: await objects(mirror),
        generation: fresh.filter((k) => k.includes('/gen-')),
        own: fresh.filter((k) => !k.includes('/gen-')),
      });
      const run = records.length - KEEP_RUNS + 1;
      if (OLDEST_CHECKS.includes(records.length))
        records.at(-1)!.oldest = { run, rows: await restoredRows(primary, records[run - 1]!.runId) };
    }
  }, 240_000);

  afterAll(async () => {
    process.env = savedEnv;
    await e.sql(`DROP TABLE IF EXISTS ${TABLE}, ${RESTORED}`);
    await e.sql(e.freshState[0]!);
  });

  const kept = () => records.slice(RUNS - KEEP_RUNS);
  const latestColumns = () => Object.keys(records.at(-1)!.source[0]!);

  it('compacts after runs 10, 20, 30 and 40', () => {
    const at = records.flatMap((r, i) => (r.compacted ? [[i + 1, r.compacted]] : []));
    expect(at).toEqual([
      [10, 1],
      [20, 2],
      [30, 3],
      [40, 4],
    ]);
  });

  it('restores every kept run --as-of equal to the source as it was at that run', async () => {
    for (const r of kept())
      expect(await restoredRows(primary, r.runId), `--as-of ${r.runId}`).toEqual(padded(r.source, latestColumns()));
  }, 120_000);

  it('restored the oldest kept run --as-of, right after runs 21, 22, 30, 31 and 32, equal to its source', () => {
    const checked = records.flatMap((r, i) => (r.oldest ? [{ after: i + 1, ...r.oldest }] : []));
    expect(checked.map((c) => [c.after, c.run])).toEqual(OLDEST_CHECKS.map((k) => [k, k - KEEP_RUNS + 1]));
    for (const c of checked) {
      const columns = Object.keys(records[c.after - 1]!.source[0]!);
      expect(c.rows, `after run ${c.after}`).toEqual(padded(records[c.run - 1]!.source, columns));
    }
  });

  it('restores the latest state equal to the source, from the primary and from the mirror', async () => {
    const now = await rowsOf(TABLE);
    expect(await restoredRows(primary)).toEqual(now);
    expect(await restoredRows(mirror)).toEqual(now);
  });

  it('verifies equal against the source', async () => {
    const v = jsonSummary<{ equal: boolean }>(await runCli(['verify', file, '--json'], env));
    expect(v.equal).toBe(true);
  });

  it('after every run, the primary holds every object a kept run reads', () => {
    for (const [i, r] of records.entries())
      expect(r.primary, `after run ${i + 1}`).toEqual(expect.arrayContaining([...expected(records, i + 1).needed]));
  });

  it('after every run, the primary holds none of the expired runs’ objects that no kept run reads', () => {
    for (const [i, r] of records.entries()) {
      const { gone } = expected(records, i + 1);
      expect(
        r.primary.filter((k) => gone.has(k)),
        `after run ${i + 1}`,
      ).toEqual([]);
    }
  });

  it('after every run, the mirror holds the same objects as the primary', () => {
    for (const [i, r] of records.entries()) expect(r.mirror, `after run ${i + 1}`).toEqual(r.primary);
  });

  it('restores the oldest kept run --as-of from the mirror equal to the source as it was then', async () => {
    const r = kept()[0]!;
    expect(await restoredRows(mirror, r.runId)).toEqual(padded(r.source, latestColumns()));
  });

  it('refuses --as-of an expired run with exit 2, naming the oldest kept run', async () => {
    const oldest = kept()[0]!.runId;
    const newestExpired = records[RUNS - KEEP_RUNS - 1]!.runId;
    for (const [bucket, asOf] of [
      [primary, records[0]!.runId],
      [primary, newestExpired],
      [mirror, newestExpired],
    ] as const) {
      const r = await runCli(
        ['restore', from(bucket), '--target', e.url, '--table', RESTORED, '--create', '--as-of', asOf],
        env,
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(oldest);
    }
  });

  it('finds nothing more to expire afterwards, the 29th run the oldest kept on both targets', async () => {
    type Target = { oldestKept: { runId: string }; runsKept: number; objects: number };
    type Expire = { tables: Array<{ status: string; targets: Target[] }> };
    const s = jsonSummary<Expire>(await runCli(['expire', file, '--dry-run', '--json'], env)).tables[0]!;
    expect(s.status).toBe('current');
    expect(s.targets).toHaveLength(2);
    for (const t of s.targets) {
      expect(t.oldestKept.runId).toBe(kept()[0]!.runId);
      expect(t.runsKept).toBe(KEEP_RUNS);
      expect(t.objects).toBe(0);
    }
  });
});
