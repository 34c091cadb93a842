import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
import { describeParquet, parquetCodecs, readParquetRows } from '../helpers/duckdb.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import {
  createBucket,
  getObjectBytes,
  listKeys,
  makeS3Client,
  s3EnvFor,
  s3Targets,
  type S3Target,
} from '../helpers/s3.js';

interface Summary {
  rows: number;
  bytes: number;
  files: Array<{ key: string; rows: number; bytes: number; sha256: string }>;
  manifestKey: string;
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tv-files-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const target = () => s3Targets()[0]!;

async function exportJson(args: string[], t: S3Target = target()): Promise<Summary> {
  return jsonSummary<Summary>(await runCli(['export', ...args, '--json'], s3EnvFor(t)));
}

async function readAll(
  bucket: string,
  keys: string[],
  t: S3Target = target(),
): Promise<Array<Record<string, unknown>>> {
  const client = makeS3Client(t);
  const files: string[] = [];
  for (const k of keys) {
    const f = join(work, `${bucket}-${k.replace(/\//g, '_')}`);
    writeFileSync(f, await getObjectBytes(client, bucket, k));
    files.push(f);
  }
  return readParquetRows(files);
}

function sortById<T extends Record<string, unknown>>(rows: T[], ...cols: string[]): T[] {
  const key = (r: T) => cols.map((c) => String(r[c]).padStart(12, '0')).join('|');
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe('export: a table larger than --file-max-rows', () => {
  beforeAll(async () => {
    await withPg(async (c) => {
      await c.query(`DROP TABLE IF EXISTS tv_many; CREATE TABLE tv_many (id int8 PRIMARY KEY, name text, amount numeric(12,2));
        INSERT INTO tv_many SELECT g, 'name ' || g, g * 1.25 FROM generate_series(1, 2500) g;
        DROP TABLE IF EXISTS tv_nopk; CREATE TABLE tv_nopk (n int4, label text);
        INSERT INTO tv_nopk SELECT g % 700, 'l' || g FROM generate_series(1, 1500) g;`);
    });
    await withMysql(async (c) => {
      await c.query(`DROP TABLE IF EXISTS tv_many2; CREATE TABLE tv_many2 (a INT, b VARCHAR(10), v BIGINT, PRIMARY KEY (a, b));
        INSERT INTO tv_many2 SELECT seq DIV 10, CONCAT('k', seq MOD 10), seq * 1000000007 FROM seq_1_to_2500;`);
    });
  });

  it('PostgreSQL: becomes several objects whose union is exactly the table', async () => {
    const bucket = await createBucket(makeS3Client(target()));
    const s = await exportJson([
      '--source',
      PG_URL,
      '--table',
      'public.tv_many',
      '--dest',
      `s3://${bucket}/exp`,
      '--file-max-rows',
      '1000',
      '--batch-rows',
      '300',
    ]);
    expect(s.rows).toBe(2500);
    expect(s.files.map((f) => f.rows)).toEqual([1000, 1000, 500]);
    expect(s.files.map((f) => f.key)).toEqual(
      ['part-00000', 'part-00001', 'part-00002'].map((p) => `exp/public.tv_many/${p}.parquet`),
    );
    const rows = sortById(
      await readAll(
        bucket,
        s.files.map((f) => f.key),
      ),
      'id',
    );
    const source = await withPg(
      async (c) =>
        (await c.query('SELECT id::text AS id, name, amount::text AS amount FROM tv_many ORDER BY tv_many.id'))
          .rows as Array<{ id: string; name: string; amount: string }>,
    );
    expect(rows.map((r) => [String(r.id), r.name, r.amount])).toEqual(source.map((r) => [r.id, r.name, r.amount]));
    expect(await listKeys(makeS3Client(target()), bucket)).toEqual(
      [...s.files.map((f) => f.key), 'exp/public.tv_many/_manifest.json'].sort(),
    );
  });

  it('PostgreSQL without a primary key: streamed in one snapshot, split the same way', async () => {
    const bucket = await createBucket(makeS3Client(target()));
    const s = await exportJson([
      '--source',
      PG_URL,
      '--table',
      'tv_nopk',
      '--dest',
      `s3://${bucket}/x`,
      '--file-max-rows',
      '1000',
      '--batch-rows',
      '400',
    ]);
    expect(s.files.map((f) => f.rows)).toEqual([1000, 500]);
    const rows = await readAll(
      bucket,
      s.files.map((f) => f.key),
    );
    const source = await withPg(
      async (c) => (await c.query('SELECT n, label FROM tv_nopk')).rows as Array<{ n: number; label: string }>,
    );
    const canon = (rs: Array<{ n: unknown; label: unknown }>) =>
      rs.map((r) => `${String(r.n)}|${String(r.label)}`).sort();
    expect(canon(rows as Array<{ n: unknown; label: unknown }>)).toEqual(canon(source));
  });

  it('MySQL with a composite primary key: keyset pages over (a, b) lose and double nothing', async () => {
    const bucket = await createBucket(makeS3Client(target()));
    const s = await exportJson([
      '--source',
      MYSQL_URL,
      '--table',
      `${MYSQL_DB}.tv_many2`,
      '--dest',
      `s3://${bucket}/m`,
      '--file-max-rows',
      '1000',
      '--batch-rows',
      '333',
    ]);
    expect(s.files.map((f) => f.rows)).toEqual([1000, 1000, 500]);
    const rows = await readAll(
      bucket,
      s.files.map((f) => f.key),
    );
    const got = rows.map((r) => `${String(r.a)}|${String(r.b)}|${String(r.v)}`);
    expect(new Set(got).size).toBe(2500);
    const source = await withMysql(
      async (c) =>
        (await c.query('SELECT a, b, CAST(v AS CHAR) AS v FROM tv_many2'))[0] as Array<{
          a: number;
          b: string;
          v: string;
        }>,
    );
    expect(got.sort()).toEqual(source.map((r) => `${r.a}|${r.b}|${r.v}`).sort());
  });

  describe.each(s3Targets().map((t) => [t.name, t] as const))(
    'PostgreSQL: a rerun, then a rerun with larger files (%s)',
    (_name, t) => {
      let first: Summary;
      let rerun: CliResult;
      let heads: Array<Record<string, string> | undefined>;
      let bigger: Summary;
      let keys: string[];
      let manifest: { files: Array<{ name: string; rows: number }> };
      let biggerIds: Set<string>;
      beforeAll(async () => {
        const client = makeS3Client(t);
        const bucket = await createBucket(client);
        const args = ['--source', PG_URL, '--table', 'tv_many', '--dest', `s3://${bucket}/exp`, '--batch-rows', '700'];
        first = await exportJson([...args, '--file-max-rows', '1000'], t);
        rerun = await runCli(['export', ...args, '--file-max-rows', '1000', '--json'], {
          ...s3EnvFor(t),
          TABLEVAULT_LOG_LEVEL: 'info',
        });
        heads = (
          await Promise.all(first.files.map((f) => client.send(new HeadObjectCommand({ Bucket: bucket, Key: f.key }))))
        ).map((h) => h.Metadata);
        bigger = await exportJson([...args, '--file-max-rows', '2000'], t);
        keys = await listKeys(client, bucket);
        manifest = JSON.parse(
          Buffer.from(await getObjectBytes(client, bucket, 'exp/public.tv_many/_manifest.json')).toString('utf8'),
        ) as typeof manifest;
        biggerIds = new Set(
          (
            await readAll(
              bucket,
              bigger.files.map((f) => f.key),
              t,
            )
          ).map((r) => String(r.id)),
        );
      });

      it('the rerun writes the same keys, row counts and checksums', () => {
        expect(jsonSummary<Summary>(rerun).files).toEqual(first.files);
      });

      it('the rerun uploads nothing: every object was already stored with the same bytes', () => {
        expect(rerun.stderr.match(/"method":"skipped"/g)).toHaveLength(first.files.length);
        expect(heads.map((m) => m?.['tablevault-sha256'])).toEqual(first.files.map((f) => f.sha256));
      });

      it('a rerun with larger files writes fewer, larger objects', () => {
        expect(bigger.files.map((f) => f.rows)).toEqual([2000, 500]);
      });

      it('a rerun with larger files removes the stale part', () => {
        expect(keys).toEqual([
          'exp/public.tv_many/_manifest.json',
          'exp/public.tv_many/part-00000.parquet',
          'exp/public.tv_many/part-00001.parquet',
        ]);
      });

      it('the manifest describes the export and lists the new objects', () => {
        expect(manifest).toMatchObject({
          format: 'tablevault.export.v1',
          rows: 2500,
          primaryKey: ['id'],
          source: { engine: 'postgres', schema: 'public', table: 'tv_many' },
        });
        expect(manifest.files.map((f) => [f.name, f.rows])).toEqual([
          ['part-00000.parquet', 2000],
          ['part-00001.parquet', 500],
        ]);
      });

      it('the larger objects hold every row once', () => {
        expect(biggerIds.size).toBe(2500);
      });
    },
  );

  it('--dest file:// writes the same layout to a local directory', async () => {
    const dir = join(work, 'local-dest');
    mkdirSync(dir);
    const r = await runCli([
      'export',
      '--source',
      PG_URL,
      '--table',
      'tv_many',
      '--dest',
      pathToFileURL(dir).href,
      '--file-max-rows',
      '2000',
      '--json',
    ]);
    const s = jsonSummary<Summary>(r);
    expect(s.files.map((f) => f.key)).toEqual([
      'public.tv_many/part-00000.parquet',
      'public.tv_many/part-00001.parquet',
    ]);
    expect(readdirSync(join(dir, 'public.tv_many')).sort()).toEqual([
      '_manifest.json',
      'part-00000.parquet',
      'part-00001.parquet',
    ]);
    const rows = await readParquetRows(join(dir, 'public.tv_many', '*.parquet'));
    expect(rows).toHaveLength(2500);
    const missing = await runCli([
      'export',
      '--source',
      PG_URL,
      '--table',
      'tv_many',
      '--dest',
      pathToFileURL(join(dir, 'nope')).href,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope is not a directory; create it first/);
  });

  describe('every --compression codec', () => {
    const codecs = ['zstd', 'lz4_raw', 'snappy', 'gzip', 'none'];
    let source: string[];
    const exported = new Map<string, string>();
    beforeAll(async () => {
      source = await withPg(async (c) =>
        (await c.query('SELECT id, name, amount FROM tv_many ORDER BY id')).rows.map(
          (r) => `${r.id}:${r.name}:${r.amount}`,
        ),
      );
      for (const codec of codecs) {
        const dir = join(work, `codec-${codec}`);
        mkdirSync(dir);
        const args = ['--source', PG_URL, '--table', 'tv_many', '--dest', pathToFileURL(dir).href];
        const r = await runCli(['export', ...args, '--compression', codec, '--json']);
        expect(r.code, r.stderr).toBe(0);
        exported.set(codec, join(dir, 'public.tv_many', '*.parquet'));
      }
    });

    it.each(codecs)('%s: DuckDB reads back every row, equal to the source', async (codec) => {
      const rows = await readParquetRows(exported.get(codec)!);
      expect(rows.map((r) => `${String(r.id)}:${String(r.name)}:${String(r.amount)}`)).toEqual(source);
    });

    it.each(codecs)('%s: the column chunks use that codec, as the manifest says', async (codec) => {
      const file = exported.get(codec)!.replace('*.parquet', 'part-00000.parquet');
      expect(await parquetCodecs(file)).toEqual([codec === 'none' ? 'UNCOMPRESSED' : codec.toUpperCase()]);
      const manifest = JSON.parse(readFileSync(join(file, '..', '_manifest.json'), 'utf8')) as { compression: string };
      expect(manifest.compression).toBe(codec);
    });

    it('lz4_raw: restore reads the files back into the database', async () => {
      const from = pathToFileURL(join(exported.get('lz4_raw')!, '..')).href;
      await withPg((c) => c.query('DROP TABLE IF EXISTS tv_many_lz4'));
      const r = await runCli(['restore', from, '--target', PG_URL, '--table', 'tv_many_lz4', '--create', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const back = await withPg(async (c) =>
        (await c.query('SELECT id, name, amount FROM tv_many_lz4 ORDER BY id')).rows.map(
          (x) => `${x.id}:${x.name}:${x.amount}`,
        ),
      );
      expect(back).toEqual(source);
    });
  });

  it('an empty table becomes one Parquet object with the schema and no rows', async () => {
    await withPg((c) =>
      c.query('DROP TABLE IF EXISTS tv_empty; CREATE TABLE tv_empty (id int8 PRIMARY KEY, name text, at timestamptz)'),
    );
    const dir = join(work, 'empty-dest');
    mkdirSync(dir);
    const s = jsonSummary<Summary>(
      await runCli(['export', '--source', PG_URL, '--table', 'tv_empty', '--dest', pathToFileURL(dir).href, '--json']),
    );
    expect(s.rows).toBe(0);
    expect(s.files.map((f) => f.rows)).toEqual([0]);
    const file = join(dir, 'public.tv_empty', 'part-00000.parquet');
    expect(await readParquetRows(file)).toEqual([]);
    expect((await describeParquet(file)).map((c) => `${c.name} ${c.type}`)).toEqual([
      'id BIGINT',
      'name VARCHAR',
      'at TIMESTAMP WITH TIME ZONE',
    ]);
  });

  it('--upload-concurrency: the next objects are read and uploaded while earlier ones are still going up', async () => {
    const t = target();
    const client = makeS3Client(t);
    const proxy = await startFaultProxy(t.endpoint, [
      { match: (r) => r.method === 'PUT', action: { kind: 'delay', ms: 100 } },
    ]);
    try {
      const overlap = async (n: number) => {
        const bucket = await createBucket(client);
        proxy.requests.length = 0;
        const s = jsonSummary<Summary>(
          await runCli(
            [
              'export',
              '--source',
              PG_URL,
              '--table',
              'tv_many',
              '--dest',
              `s3://${bucket}/c`,
              '--file-max-rows',
              '300',
              '--batch-rows',
              '100',
              '--upload-concurrency',
              String(n),
              '--json',
            ],
            { ...s3EnvFor(t), AWS_ENDPOINT_URL: proxy.endpoint },
          ),
        );
        expect(s.files.map((f) => f.rows)).toEqual([300, 300, 300, 300, 300, 300, 300, 300, 100]);
        expect(
          new Set(
            (
              await readAll(
                bucket,
                s.files.map((f) => f.key),
                t,
              )
            ).map((r) => String(r.id)),
          ).size,
        ).toBe(2500);
        const puts = proxy.requests.filter((r) => r.method === 'PUT' && /part-\d+\.parquet$/.test(r.path));
        // uploads that started before the previous one had finished
        return puts.filter((p, i) => i > 0 && p.at < puts[i - 1]!.doneAt!).length;
      };
      expect(await overlap(1)).toBe(0);
      expect(await overlap(3)).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });
});
