import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { createBucket, getObjectBytes, listKeys, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

/**
 * Retention on S3 with mirrors: the destination keeps 2 runs and a mirror without retention of
 * its own keeps the same (what the destination expires is removed from it too), while an archive
 * mirror with `retention: { keep_runs: 4 }` keeps 4: its manifest lists more than the
 * destination's, and a run the destination has expired restores from it as the source was.
 */

type Row = Record<string, string>;
const STATE = 'tv_expm_state';
const stateUrl = Object.assign(new URL(PG_URL), { pathname: `/${STATE}` }).href;
const rows = async (table: string) =>
  (await withPg((c) => c.query(`SELECT id::text, v FROM ${table} ORDER BY id`))).rows as Row[];

interface Manifest {
  files: Array<{ name: string }>;
  generations?: Array<{ files: Array<{ name: string }> }>;
  keptFrom?: { runId: string };
}

describe.each(s3Targets().map((t) => [t.name, t] as const))('expire with mirrors (%s)', (_name, target) => {
  const env = s3EnvFor(target);
  const client = makeS3Client(target);
  let buckets: { main: string; same: string; archive: string };
  let file: string;
  const runs: string[] = [];
  const source = new Map<string, Row[]>();
  const manifest = async (bucket: string) =>
    JSON.parse(
      Buffer.from(await getObjectBytes(client, bucket, 'n/public.tv_expm/_manifest.json')).toString(),
    ) as Manifest;
  const objects = async (bucket: string) =>
    (await listKeys(client, bucket, 'n/public.tv_expm/'))
      .map((k) => k.slice('n/public.tv_expm/'.length))
      .filter((k) => k !== '_manifest.json')
      .sort();
  const listed = (m: Manifest) =>
    [...m.files.map((f) => f.name), ...(m.generations ?? []).flatMap((g) => g.files.map((f) => f.name))].sort();
  const restore = (bucket: string, asOf: string) =>
    runCli(
      [
        'restore',
        `s3://${bucket}/n/public.tv_expm`,
        '--target',
        PG_URL,
        '--table',
        'public.tv_expm_r',
        '--create',
        '--mode',
        'replace',
        '--as-of',
        asOf,
      ],
      env,
    );

  beforeAll(async () => {
    buckets = {
      main: await createBucket(client),
      same: await createBucket(client),
      archive: await createBucket(client),
    };
    await withPg(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${STATE} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${STATE}`);
      await c.query(`DROP TABLE IF EXISTS tv_expm, tv_expm_r;
        CREATE TABLE tv_expm (id int PRIMARY KEY, v text, at timestamp(6) NOT NULL);
        INSERT INTO tv_expm SELECT g, 'v' || g, timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, 200) g`);
    });
    file = join(mkdtempSync(join(tmpdir(), 'tv-expm-')), 'strategy.yaml');
    writeFileSync(
      file,
      `source: ${PG_URL}
state: ${stateUrl}
destination: s3://${buckets.main}/n
defaults: { compact_every: 1, retention: { keep_runs: 2 } }
tables:
  - table: public.tv_expm
    strategy: incremental
    cursor: at
mirror:
  - dest: s3://${buckets.same}/n
  - dest: s3://${buckets.archive}/n
    retention: { keep_runs: 4 }
`,
    );
    for (let run = 1; run <= 6; run++) {
      await withPg((c) =>
        c.query(`UPDATE tv_expm SET v = 'run${run}', at = timestamp '2025-01-01' + interval '${run} day' + id * interval '1 microsecond' WHERE id % 5 = ${run % 5};
          DELETE FROM tv_expm WHERE id = ${run * 17}`),
      );
      const s = jsonSummary<{ tables: Array<{ status: string; error?: string; runId: string }> }>(
        await runCli(['backup', file, '--json'], env),
      );
      expect(s.tables[0]!.status, s.tables[0]!.error).toBe('ok');
      runs.push(s.tables[0]!.runId);
      source.set(s.tables[0]!.runId, await rows('tv_expm'));
    }
  }, 180_000);

  afterAll(async () => {
    await withPg(async (c) => {
      await c.query('DROP TABLE IF EXISTS tv_expm, tv_expm_r');
      await c.query(`DROP DATABASE IF EXISTS ${STATE} WITH (FORCE)`);
    });
  });

  it('keeps the newest 2 runs on the destination, holding only what they read', async () => {
    const m = await manifest(buckets.main);
    expect(m.keptFrom?.runId).toBe(runs[4]);
    expect(await objects(buckets.main)).toEqual(listed(m));
  });

  it('removes from a mirror without retention of its own what the destination expired', async () => {
    const m = await manifest(buckets.same);
    expect(m.keptFrom?.runId).toBe(runs[4]);
    expect(await objects(buckets.same)).toEqual(listed(m));
  });

  it('keeps 4 runs on the archive mirror with retention of its own', async () => {
    const m = await manifest(buckets.archive);
    expect(m.keptFrom?.runId).toBe(runs[2]);
    expect(await objects(buckets.archive)).toEqual(listed(m));
    expect(listed(m).length).toBeGreaterThan(listed(await manifest(buckets.main)).length);
  });

  it('restores from the archive a run the destination expired, as the source was after it', async () => {
    expect((await restore(buckets.main, runs[2]!)).code).toBe(2);
    const r = await restore(buckets.archive, runs[2]!);
    expect(r.code, r.stderr).toBe(0);
    expect(await rows('tv_expm_r')).toEqual(source.get(runs[2]!));
  });
});
