/**
 * `npm run demo`: the main job on an embedded default, no server to install. An embedded
 * PostgreSQL (PGlite served over the wire protocol, so the real `pg` + COPY code path runs),
 * seeded from fixtures/demo.sql, exported to an s3rver bucket kept in ./.demo/s3.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import * as wasm from 'parquet-wasm';
import S3rver from 's3rver';
import { exportTable, type ExportSummary } from '../backup/export.js';
import { formatBytes, printTable } from '../cli/output.js';
import { createLogger } from '../log.js';
import { quietKnownWarnings } from '../process-setup.js';
import { createS3Client } from '../s3/client.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const demoDir = join(root, '.demo');
const BUCKET = 'tablevault-demo';

async function main(): Promise<void> {
  const log = createLogger({ level: process.env.TABLEVAULT_LOG_LEVEL ?? 'warn' });
  rmSync(demoDir, { recursive: true, force: true });
  mkdirSync(join(demoDir, 's3'), { recursive: true });

  process.stdout.write('starting embedded PostgreSQL (PGlite) and S3 (s3rver)…\n');
  const db = await PGlite.create();
  await db.exec(readFileSync(join(root, 'fixtures', 'demo.sql'), 'utf8'));
  const pgServer = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await pgServer.start();
  const pgUrl = `postgres://postgres@${pgServer.getServerConn()}/postgres`;

  const s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: join(demoDir, 's3'), silent: true, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = await s3.run();
  const endpoint = `http://127.0.0.1:${port}`;
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';

  try {
    const results: ExportSummary[] = [];
    for (const table of ['shop.customers', 'shop.orders']) {
      results.push(await exportTable({ source: pgUrl, table, dest: `s3://${BUCKET}/demo`, fileMaxRows: 8000, s3: { endpoint } }, { logger: log }));
    }
    process.stdout.write(`\nexported to s3://${BUCKET}/demo (files in ${join('.demo', 's3', BUCKET)}):\n\n`);
    process.stdout.write(printTable(
      ['table', 'rows', 'files', 'bytes', 'duration'],
      results.map((r) => [r.table, String(r.rows), String(r.files.length), formatBytes(r.bytes), `${(r.durationMs / 1000).toFixed(2)}s`]),
    ));
    // read every object back from S3 with an independent Parquet reader and count the rows
    const { client } = createS3Client({ endpoint });
    for (const r of results) {
      let rows = 0;
      for (const f of r.files) {
        const obj = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: f.key }));
        const table = wasm.readParquet(await obj.Body!.transformToByteArray());
        rows += table.recordBatches().reduce((n, b) => n + b.numRows, 0);
        table.free();
      }
      const source = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${r.table}`);
      process.stdout.write(`${r.table}: ${rows} rows read back from S3, ${source.rows[0]!.n} in the database — ${rows === source.rows[0]!.n ? 'match' : 'MISMATCH'}\n`);
    }
    for (const k of results.flatMap((r) => [...r.files.map((f) => f.key), r.manifestKey])) process.stdout.write(`  s3://${BUCKET}/${k}\n`);
    client.destroy();
  } finally {
    await pgServer.stop();
    await db.close();
    await s3.close();
  }
}

quietKnownWarnings();
main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
