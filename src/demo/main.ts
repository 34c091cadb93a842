/**
 * `npm run demo`: the first five minutes, on embedded defaults, no server to install. An embedded
 * PostgreSQL (PGlite served over the wire protocol, so the real `pg` + COPY code path runs) seeded
 * from fixtures/demo.sql, a second PGlite as the state store, and an s3rver keeping its buckets in
 * ./.demo/s3. It runs the strategy in .demo/strategy.yaml: a nightly incremental backup, a change
 * to the data, a second run that moves only the change, the mirror to an archive bucket after each
 * run, and a verify that proves the backup equals the tables.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import S3rver from 's3rver';
import { runBackup, type BackupSummary } from '../backup/run.js';
import { formatBytes, printTable } from '../cli/output.js';
import { createLogger } from '../log.js';
import { quietKnownWarnings } from '../process-setup.js';
import { verify } from '../verify/verify.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const demoDir = join(root, '.demo');
const BUCKET = 'tablevault-demo';
const ARCHIVE = 'tablevault-archive';

const say = (s: string) => process.stdout.write(s);

async function pgliteServer(db: PGlite): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  return { url: `postgres://postgres@${server.getServerConn()}/postgres`, stop: () => server.stop() };
}

function backupTable(s: BackupSummary): string {
  let out = printTable(
    ['table', 'strategy', 'status', 'rows', 'files', 'bytes', 'mirrored', 'duration'],
    s.tables.map((t) => [
      t.table,
      t.strategy,
      t.status,
      String(t.rows),
      String(t.files),
      formatBytes(t.bytes),
      (t.mirrors ?? []).map((m) => `${m.copied} copied, ${m.skipped} there`).join('; ') || '-',
      `${(t.durationMs / 1000).toFixed(2)}s`,
    ]),
  );
  for (const t of s.tables) if (t.error) out += `${t.table}: ${t.error}\n`;
  return out;
}

async function main(): Promise<void> {
  const started = Date.now();
  const log = createLogger({ level: process.env.TABLEVAULT_LOG_LEVEL ?? 'warn' });
  rmSync(demoDir, { recursive: true, force: true });
  mkdirSync(join(demoDir, 's3'), { recursive: true });

  say('starting an embedded PostgreSQL (PGlite) with the demo shop, a state store, and S3 (s3rver)…\n');
  const shop = await PGlite.create();
  await shop.exec(readFileSync(join(root, 'fixtures', 'demo.sql'), 'utf8'));
  const state = await PGlite.create();
  const source = await pgliteServer(shop);
  const stateServer = await pgliteServer(state);
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: join(demoDir, 's3'),
    silent: true,
    configureBuckets: [
      { name: BUCKET, configs: [] },
      { name: ARCHIVE, configs: [] },
    ],
  });
  const { port } = await s3.run();
  const endpoint = `http://127.0.0.1:${port}`;
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';

  const strategy = join(demoDir, 'strategy.yaml');
  writeFileSync(
    strategy,
    `# written by npm run demo; the same file works with \`tablevault backup\`, \`verify\` and \`serve\`
source: ${source.url}
state: ${stateServer.url}
destination: s3://${BUCKET}/nightly
s3: { endpoint: ${endpoint} }
schedule: "0 2 * * *"
# PGlite is one PostgreSQL session behind its socket: a run-wide snapshot (a transaction held open
# on one connection while others read) would block the reads, so each table reads its own
snapshot: per-table
tables:
  - table: shop.customers
    strategy: full
  - table: shop.orders
    strategy: incremental
    cursor: updated_at
    file_max_rows: 5000
mirror:
  - dest: s3://${ARCHIVE}/nightly
    storage_class: STANDARD_IA
`,
  );
  try {
    say(`\n1. first run of ${join('.demo', 'strategy.yaml')}: a full backfill, mirrored to s3://${ARCHIVE}\n\n`);
    say(backupTable(await runBackup({ strategy }, { logger: log })));

    const changed = await shop.query<{ n: number }>(
      `WITH u AS (UPDATE shop.orders SET status = 'returned', updated_at = now() WHERE id % 500 = 0 RETURNING 1) SELECT count(*)::int AS n FROM u`,
    );
    await shop.exec(
      `INSERT INTO shop.orders SELECT 100000 + g, 1 + g, 'new', 9.99, '{"sku": "SKU-NEW"}', ARRAY['new'], NULL, now()::timestamp, now() FROM generate_series(1, 10) g`,
    );
    say(`\n2. the data changes: ${changed.rows[0]!.n} orders updated, 10 orders added\n`);

    say('\n3. second run: only the change moves (and only the new objects are mirrored)\n\n');
    say(backupTable(await runBackup({ strategy }, { logger: log })));

    say(
      '\n4. verify: the backup equals the tables (checksums per key range in PostgreSQL and from the Parquet in S3)\n\n',
    );
    const v = await verify({ strategy, s3: { endpoint } }, { logger: log });
    say(
      printTable(
        ['table', 'result', 'source rows', 'backup rows', 'ranges differing'],
        v.tables.map((t) => [
          t.table,
          t.error ? `failed: ${t.error}` : t.equal ? 'equal' : 'DIFFERENT',
          String(t.sourceRows),
          String(t.backupRows),
          String(t.rangesDiffering),
        ]),
      ),
    );
    if (!v.equal) process.exitCode = 1;

    say(
      `\nbuckets on disk: ${join('.demo', 's3', BUCKET)} and ${join('.demo', 's3', ARCHIVE)}; done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    say(
      'next: tablevault restore s3://tablevault-demo/nightly/shop.orders --target postgres://… --table shop.orders --create (see README)\n',
    );
  } finally {
    await source.stop();
    await stateServer.stop();
    await shop.close();
    await state.close();
    await s3.close();
  }
}

quietKnownWarnings();
main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
